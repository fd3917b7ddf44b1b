// The idle sign-out, announced a minute before it happens. The server ends a session after
// data-idle-seconds without activity (mat/auth/sessions.py); this only tells the person in time
// and lets them stay. Asking how long is left is sent with X-Mat-Background: 1, which the server
// does not count as activity; "Stay signed in" is a POST that does.
"use strict";
(function () {
  var body = document.body;
  var idle = parseInt(body.dataset.idleSeconds || "0", 10);
  if (!idle) { return; }
  var WARN = 60;  // seconds before the end
  var notice = document.getElementById("idle-notice");
  var stay = document.getElementById("idle-stay");
  var left = document.getElementById("idle-left");
  var token = document.querySelector("meta[name=csrf-token]");
  var endsAt = Date.now() + idle * 1000;
  var timer = null;

  function schedule() {
    clearTimeout(timer);
    var toWarning = endsAt - WARN * 1000 - Date.now();
    timer = setTimeout(check, Math.max(0, toWarning));
  }

  function signedOut() {
    window.location.assign(body.dataset.signedOutUrl);
  }

  function show(seconds) {
    left.textContent = seconds > 59 ? "a minute" : seconds + " seconds";
    if (notice.hidden) {
      notice.hidden = false;
      stay.focus();
    }
  }

  // Another tab may have kept the session alive: ask the server before warning or leaving.
  function check() {
    fetch(body.dataset.remainingUrl, {
      headers: { "X-Mat-Background": "1", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (answer) {
      var seconds = answer.seconds_left;
      if (seconds <= 0) { signedOut(); return; }
      endsAt = Date.now() + seconds * 1000;
      if (seconds > WARN + 5) { notice.hidden = true; schedule(); return; }
      show(seconds);
      clearTimeout(timer);
      timer = setTimeout(check, Math.min(seconds, 15) * 1000);
    }).catch(function () {
      // The server cannot be reached: count down on our own.
      var seconds = Math.round((endsAt - Date.now()) / 1000);
      if (seconds <= 0) { signedOut(); return; }
      show(seconds);
      timer = setTimeout(check, Math.min(seconds, 15) * 1000);
    });
  }

  stay.addEventListener("click", function () {
    fetch(body.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": token ? token.content : "", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (r) {
      if (!r.ok) { signedOut(); return null; }
      return r.json();
    }).then(function (answer) {
      if (!answer) { return; }
      endsAt = Date.now() + answer.seconds_left * 1000;
      notice.hidden = true;
      schedule();
    }).catch(signedOut);
  });

  schedule();
})();
