// Hearth record forms: progressive enhancement only. With scripts off every
// form still works (the byte limit is written under each field, "Save
// draft" saves, the body map's regions are links). This adds: live byte
// counters, saving the draft as the worker types, and the body map filling
// the injury's region in place.
(function () {
  "use strict";
  var enc = new TextEncoder();

  function counters(form) {
    form.querySelectorAll("[data-max]").forEach(function (field) {
      var out = document.getElementById(field.id + "-count");
      if (!out) { return; }
      var max = parseInt(field.getAttribute("data-max"), 10);
      function update() {
        var left = max - enc.encode(field.value).length;
        out.textContent = left >= 0 ? left + " bytes left of " + max
          : (-left) + " bytes too many (the limit is " + max + ")";
        out.classList.toggle("error-message", left < 0);
      }
      field.addEventListener("input", update);
      update();
    });
  }

  function autosave(form) {
    var url = form.getAttribute("data-draft");
    var dirty = false;
    var sending = false;
    function save() {
      if (!dirty || sending) { return; }
      dirty = false;
      sending = true;
      var data = new URLSearchParams(new FormData(form));
      data.set("_action", "autosave");
      fetch(url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { dirty = true; } })
        .catch(function () { dirty = true; })
        .then(function () { sending = false; });
    }
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; save(); });
    window.setInterval(save, 3000);
    window.addEventListener("pagehide", save);
  }

  function bodyMap(form) {
    form.querySelectorAll("[data-region]").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        var word = link.getAttribute("data-region");
        var radios = form.querySelectorAll("input[name$='].body_region']");
        var groups = {};
        radios.forEach(function (r) { (groups[r.name] = groups[r.name] || []).push(r); });
        var target = null;
        Object.keys(groups).forEach(function (name) {
          var chosen = groups[name].some(function (r) { return r.checked; });
          if (!target && !chosen) { target = name; }
        });
        if (!target) { return; } // every injury has a region: let the link add one
        ev.preventDefault();
        groups[target].forEach(function (r) {
          r.checked = r.value === word;
          if (r.checked) { r.focus(); r.dispatchEvent(new Event("change", { bubbles: true })); }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-draft]");
    if (!form) { return; }
    counters(form);
    autosave(form);
    bodyMap(form);
  });
})();
