// Hearth manager's web app: progressive enhancement only; every page
// works without this script. No inline handlers: the Content Security
// Policy allows only this file.
"use strict";

// The panel pack's "Print or save as PDF" button (#print): hidden until
// this script can make it work. Without it, the browser's own Print
// (Ctrl+P) gives the same pack.
(function () {
  var button = document.getElementById("print");
  if (!button || typeof window.print !== "function") {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
})();

// A form sent back with problems: move focus to its error summary, so a
// screen reader reads the problems first and a keyboard user can follow
// each link to its field (the GOV.UK pattern). The summary is tabindex=-1.
(function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
})();
