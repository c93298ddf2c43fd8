// Hearth tablet app: progressive enhancement only. Every form works with
// scripts off; this file adds conveniences on top. No inline script is
// allowed by the Content-Security-Policy, so everything is wired here.
(function () {
  "use strict";

  // Move focus to the error summary when a form comes back with problems,
  // as the GOV.UK and NHS.UK error summaries do.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
  });
})();
