// rosterd back office: follows a queued or processing import live on its
// page. Without JavaScript the page refreshes itself every 2 seconds
// (<noscript> refresh); with it, this asks the API for the import every
// second, updates the figures in place, and reloads the page once the
// import has ended, to show its outcome.
(function () {
  "use strict";
  var root = document.querySelector("[data-import-live]");
  if (!root || !window.fetch) {
    return;
  }
  var url = "/api/v1/imports/" + encodeURIComponent(root.getAttribute("data-import-live"));
  var bar = root.querySelector("progress");

  function set(field, text) {
    var el = root.querySelector('[data-field="' + field + '"]');
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }
  // The same words as the page (fileSizeText, importPhase and label in Go).
  function size(n) {
    var units = ["KiB", "MiB", "GiB"];
    if (n < 1024) {
      return n + " bytes";
    }
    var i = -1;
    do {
      n /= 1024;
      i++;
    } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(1) + " " + units[i];
  }
  function phase(im) {
    if (im.status === "queued") {
      return "Waiting to start";
    }
    if (im.progress.bytes_read < im.progress.total_bytes) {
      return "Reading and checking the rows";
    }
    return "Checking the whole file and saving the changes";
  }
  function label(s) {
    s = s.replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (res) {
        if (res.status === 401 || res.status === 404) {
          window.location.reload(); // signed out or gone: the page itself says so
          return null;
        }
        if (!res.ok) {
          throw new Error("HTTP " + res.status);
        }
        return res.json();
      })
      .then(function (im) {
        if (im === null) {
          return;
        }
        if (im.status !== "queued" && im.status !== "processing") {
          window.location.reload();
          return;
        }
        var p = im.progress;
        var pct = p.total_bytes > 0 ? Math.min(100, Math.floor((p.bytes_read * 100) / p.total_bytes)) : 0;
        if (bar) {
          bar.max = p.total_bytes || 1;
          bar.value = p.bytes_read;
          bar.textContent = pct + "%";
        }
        set("status", label(im.status));
        var badge = root.querySelector('[data-field="status"]');
        if (badge) {
          badge.className = "badge " + im.status;
        }
        set("phase", phase(im));
        set("bytes", size(p.bytes_read));
        set("percent", String(pct));
        set("rows", String(p.rows_read));
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // offline or signed out: try again, more slowly
      });
  }
  window.setTimeout(poll, 1000);
})();
