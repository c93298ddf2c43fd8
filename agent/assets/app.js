// Hearth tablet app: progressive enhancement only. Every form works with
// scripts off; this file adds conveniences on top. The Content-Security-
// Policy allows no inline script, so everything is wired here.
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

  // Keep the sync indicator current. The poll does not count as the
  // worker's activity (the idle lock ignores /sync/status); when the app
  // has locked itself the poll is sent to /unlock, and so is the page, so
  // nothing stays on screen for whoever picks the tablet up next.
  function pollSyncStatus() {
    var indicator = document.querySelector("#sync-indicator a");
    if (!indicator || !window.fetch) {
      return;
    }
    var state = document.getElementById("sync-state");
    function poll() {
      fetch("/sync/status", { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.redirected && /\/(unlock|setup)$/.test(new URL(response.url).pathname)) {
            window.location.assign("/unlock");
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (text) {
          if (text) {
            indicator.textContent = text;
            if (state) {
              state.textContent = text;
            }
          }
        })
        .catch(function () {
          indicator.textContent = "App not running";
        });
    }
    window.setInterval(poll, 10000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    pollSyncStatus();
  });
})();
