// A form marked data-once sends once: a second press while the first is on its way does nothing
// (the server refuses a repeat anyway). A file, not inline script: the pages' CSP forbids that.
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function () {
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
  });
});
