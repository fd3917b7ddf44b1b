// The nurse's queue (/window): the table refreshes itself every 30 seconds and when the window
// comes back into focus, without reloading the page (the search box keeps what is typed in it).
// Background requests carry X-Mat-Background so they do not keep an idle session alive.
// Without JavaScript the page works as it is: its Refresh link reloads it.
"use strict";
(function () {
  var box = document.getElementById("queue");
  if (!box) { return; }
  var seconds = parseInt(box.getAttribute("data-refresh"), 10) || 30;
  var busy = false;

  function refresh() {
    if (busy) { return Promise.resolve(); }
    busy = true;
    return fetch(box.getAttribute("data-src"), {
      headers: { "X-Mat-Background": "1" },
      credentials: "same-origin",
      redirect: "manual",
    }).then(function (response) {
      if (response.type === "opaqueredirect" || !response.ok) {
        // Signed out or refused: say so once; the next page load asks to sign in again.
        box.setAttribute("data-stale", "1");
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (html === null) { return; }
      // Keep the keyboard where it was: remember the focused link's patient, if any.
      var focused = document.activeElement;
      var row = focused && box.contains(focused) ? focused.closest("tr[data-patient]") : null;
      var patient = row ? row.getAttribute("data-patient") : null;
      var y = window.scrollY;
      box.innerHTML = html;
      box.removeAttribute("data-stale");
      if (patient) {
        var link = box.querySelector('tr[data-patient="' + patient + '"] a');
        if (link) { link.focus({ preventScroll: true }); }
      }
      window.scrollTo(0, y);
    }).catch(function () {
      box.setAttribute("data-stale", "1");  // the network is down: keep what is shown
    }).finally(function () {
      busy = false;
    });
  }

  window.matQueueRefresh = refresh;  // for the browser tests
  window.setInterval(refresh, seconds * 1000);
  window.addEventListener("focus", refresh);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { refresh(); }
  });
})();
