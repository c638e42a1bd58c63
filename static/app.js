// Progressive enhancement only: every page works without this file.
// The job page: ask the page's own URL for JSON once a second while the job is active, and
// update the state, counts and progress bars in place. (Without JavaScript, a <noscript> meta
// refresh reloads the page instead.)
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root || root.dataset.active !== "true") return;
  var etag = null;
  var badges = { queued: "badge-info", running: "badge-info", succeeded: "badge-ok", failed: "badge-bad", cancelled: "badge-warn" };

  function set(scope, field, text) {
    var el = scope.querySelector('[data-field="' + field + '"]');
    if (el && el.textContent !== String(text)) el.textContent = text;
    return el;
  }
  function duration(s) {
    if (s == null) return "not started";
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
    return Math.floor(s / 3600) + " h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + " min";
  }
  function render(job) {
    var state = set(document, "state", job.state);
    if (state) state.className = "badge " + (badges[job.state] || "");
    set(document, "elapsed", duration(job.elapsed_seconds));
    set(document, "requests", job.requests);
    set(document, "finished", job.finished_at || "—");
    var active = job.state === "queued" || job.state === "running";
    var cancel = document.querySelector('[data-field="cancel-form"]');
    if (cancel) {
      cancel.hidden = !active;
      if (job.cancel_requested) { var b = cancel.querySelector("button"); b.disabled = true; b.textContent = "Cancelling…"; }
    }
    if (job.error) {
      var box = document.querySelector('[data-field="error"]');
      box.hidden = false;
      box.querySelector(".error-text").textContent = job.error;
    }
    job.bindings.forEach(function (b) {
      var row = document.querySelector('tr[data-binding="' + CSS.escape(b.name) + '"]');
      if (!row) return;
      var badge = set(row, "bstate", b.state);
      badge.className = "badge " + (b.done ? "badge-ok" : b.state === "failed" ? "badge-bad" : b.state === "running" ? "badge-info" : "");
      set(row, "pages", b.pages);
      set(row, "documents", b.documents);
      set(row, "deleted", b.deleted);
      set(row, "brequests", b.requests);
      set(row, "cursor", b.cursor || "");
      var bar = row.querySelector(".progress");
      var pct = b.fraction == null ? 0 : Math.round(b.fraction * 100);
      bar.classList.toggle("indeterminate", b.fraction == null && b.state === "running");
      bar.setAttribute("aria-valuenow", pct);
      bar.firstElementChild.className = "w" + Math.max(0, Math.min(100, pct));
    });
    return active;
  }
  function poll() {
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(location.pathname, { headers: headers, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 304) return null;
        if (!r.ok) throw new Error("HTTP " + r.status);
        etag = r.headers.get("ETag");
        return r.json();
      })
      .then(function (job) {
        var active = job ? render(job) : true;
        if (active) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
