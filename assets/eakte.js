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
        if (answer.status === 401 || answer.status === 410 || answer.redirected) { window.location.reload(); return; }
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
      var what = all[current].querySelector("a.oeffnen");
      if (done && window.confirm("„" + (what ? what.textContent : "Eintrag") + "“ zdA (erledigt) setzen?")) {
        event.preventDefault();
        done.requestSubmit();
      }
    }
  });

  // zdA in the Postkorb without leaving it: the form is sent in the
  // background, and the live request shows the list as it then is.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("zda") || !document.getElementById("postkorb-liste")) { return; }
    event.preventDefault();
    var status = document.getElementById("live-status");
    fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin", redirect: "manual" })
      .then(function (answer) {
        if (answer.type === "opaqueredirect" || answer.ok) {
          if (status) { status.textContent = "Erledigt (zdA)."; }
          return;
        }
        return answer.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var reason = page.querySelector("[role=alert]");
          if (status) { status.textContent = reason ? reason.textContent : "Das hat nicht geklappt; bitte die Seite neu laden."; }
        });
      })
      .catch(function () { if (status) { status.textContent = "Verbindung unterbrochen; bitte erneut versuchen."; } });
  });

  document.addEventListener("DOMContentLoaded", live);
})();

// The Akte: PDFs and e-mails chosen or dropped are filed one by one (the
// file is the request body, the page's CSRF token a header).
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var zone = document.getElementById("ablage");
    if (!zone) { return; }
    var input = document.getElementById("d-datei");
    var status = document.getElementById("ablage-status");
    function send(files) {
      var list = Array.prototype.slice.call(files);
      var schlagwort = document.getElementById("d-schlagwort").value.trim();
      if (!schlagwort) { status.textContent = "Bitte zuerst ein Schlagwort angeben."; return; }
      var next = function () {
        var file = list.shift();
        if (!file) { window.location.reload(); return; }
        var type = file.type || (/\.eml$/i.test(file.name) ? "message/rfc822" : "");
        status.textContent = "„" + file.name + "“ wird zur Akte genommen …";
        fetch("/akten/" + encodeURIComponent(zone.dataset.bg) + "/datei?schlagwort=" + encodeURIComponent(schlagwort), {
          method: "POST", credentials: "same-origin", body: file,
          headers: { "Content-Type": type, "X-CSRF-Token": zone.dataset.csrf }
        }).then(function (answer) {
          if (answer.status === 201) { next(); return; }
          return answer.text().then(function (html) {
            var page = new DOMParser().parseFromString(html, "text/html");
            var reason = page.querySelector("[role=alert]");
            status.textContent = "„" + file.name + "“ wurde nicht abgelegt: " + (reason ? reason.textContent : answer.status);
          });
        }).catch(function () { status.textContent = "Verbindung unterbrochen; bitte erneut versuchen."; });
      };
      next();
    }
    input.addEventListener("change", function () { send(input.files); });
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("ziel"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("ziel"); });
    zone.addEventListener("drop", function (e) { e.preventDefault(); zone.classList.remove("ziel"); send(e.dataTransfer.files); });
  });
})();

// Search words, kept for this tab only, are marked in the document's text.
(function () {
  var KEY = "eakte-suchwoerter";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.suche");
    if (form) {
      form.addEventListener("submit", function () {
        try { sessionStorage.setItem(KEY, document.getElementById("q").value); } catch (e) { /* private mode */ }
      });
    }
    var texts = document.querySelectorAll(".seitentext");
    var query = null;
    try { query = sessionStorage.getItem(KEY); } catch (e) { return; }
    if (!query || texts.length === 0) { return; }
    var words = query.replace(/"/g, " ").split(/\s+/)
      .filter(function (w) { return w.length >= 3 && w.charAt(0) !== "-"; })
      .map(function (w) { return w.toLowerCase().slice(0, Math.max(3, w.length - 2)); });
    if (words.length === 0) { return; }
    texts.forEach(function (pre) {
      var text = pre.textContent, lower = text.toLowerCase(), out = document.createDocumentFragment(), at = 0;
      while (at < text.length) {
        var best = -1, len = 0;
        words.forEach(function (w) {
          var i = lower.indexOf(w, at);
          if (i >= 0 && (best < 0 || i < best)) { best = i; len = w.length; }
        });
        if (best < 0) { break; }
        var end = best + len;
        while (end < text.length && /[\wäöüß]/i.test(text.charAt(end))) { end++; }
        out.appendChild(document.createTextNode(text.slice(at, best)));
        var mark = document.createElement("mark");
        mark.textContent = text.slice(best, end);
        out.appendChild(mark);
        at = end;
      }
      out.appendChild(document.createTextNode(text.slice(at)));
      pre.textContent = "";
      pre.appendChild(out);
    });
  });
})();

// The admin's Aktenübernahme: the chosen package is sent as the body (the
// CSRF token a header); the answer names the page that shows its content.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("u-datei");
    if (!input) { return; }
    var status = document.getElementById("uebernahme-status");
    input.addEventListener("change", function () {
      var file = input.files[0];
      if (!file) { return; }
      status.textContent = "„" + file.name + "“ wird geprüft …";
      fetch("/aktenuebernahme", {
        method: "POST", credentials: "same-origin", body: file,
        headers: { "Content-Type": "application/zip", "X-CSRF-Token": input.dataset.csrf }
      }).then(function (answer) {
        if (answer.status === 201) {
          return answer.json().then(function (json) { window.location.href = json.weiter; });
        }
        return answer.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var reason = page.querySelector("[role=alert]");
          status.textContent = "„" + file.name + "“ kann nicht übernommen werden: " + (reason ? reason.textContent : answer.status);
        });
      }).catch(function () { status.textContent = "Verbindung unterbrochen; bitte erneut versuchen."; });
    });
  });
})();
