// A form marked data-once is sent once: a second press while the first is on its way does
// nothing (the server refuses a second dose anyway). A static file, not an inline script, so
// the Content-Security-Policy can forbid inline script (mat/headers.py).
"use strict";
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function () {
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
  });
});
