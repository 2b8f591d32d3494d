// eakte: the live Postkorb and its keyboard. No framework: a long-poll
// request to /postkorb/live that answers the new list when something
// changed (204 when not), and j/k/Enter/z on the rows.
"use strict";

(function () {
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.eintrag")); }
  var current = -1;

  function mark(index) {
    var all = rows();
    if (all.length === 0) { current = -1; return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (r, i) { r.classList.toggle("aktiv", i === current); });
    all[current].focus();
  }

  function live() {
    var list = document.getElementById("postkorb-liste");
    if (!list) { return; }
    var status = document.getElementById("live-status");
    fetch("/postkorb/live?seit=" + encodeURIComponent(list.dataset.cursor), { credentials: "same-origin" })
      .then(function (answer) {
        if (answer.status === 200) {
          return answer.text().then(function (html) {
            var active = rows()[current];
            var id = active ? active.dataset.eintrag : null;
            list.outerHTML = html;
            if (status) { status.textContent = "Postkorb aktualisiert um " + new Date().toLocaleTimeString("de-DE", { timeZone: "Europe/Berlin" }); }
            if (id) {
              var again = rows().findIndex(function (r) { return r.dataset.eintrag === id; });
              if (again >= 0) { mark(again); }
            }
            live();
          });
        }
        if (answer.status === 204) { live(); return; }
        if (answer.status === 410 || answer.redirected) { window.location.reload(); return; }
        setTimeout(live, 5000);
      })
      .catch(function () {
        if (status) { status.textContent = "Verbindung unterbrochen – neuer Versuch in 5 Sekunden."; }
        setTimeout(live, 5000);
      });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var all = rows();
    if (event.key === "w") {
      var forward = document.getElementById("weiter-an");
      if (forward) { event.preventDefault(); forward.focus(); }
      return;
    }
    if (all.length === 0) { return; }
    if (event.key === "j") { event.preventDefault(); mark(current + 1); }
    else if (event.key === "k") { event.preventDefault(); mark(current - 1); }
    else if (event.key === "Enter" && current >= 0) {
      var open = all[current].querySelector("a.oeffnen");
      if (open) { event.preventDefault(); open.click(); }
    } else if (event.key === "z" && current >= 0) {
      var done = all[current].querySelector("form.zda");
      if (done) { event.preventDefault(); done.submit(); }
    }
  });

  document.addEventListener("DOMContentLoaded", live);
})();
