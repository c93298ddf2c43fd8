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
