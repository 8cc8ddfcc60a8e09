// rosterd back office: follows a queued or processing import live on its
// page. Without JavaScript the page refreshes itself every 2 seconds
// (<noscript> refresh); with it, this asks the API for the import four times
// a second (its run records its progress five times a second), updates the figures in place, and reloads the page once the
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
  // The same words as the page (store.FormatCount, store.FormatSize,
  // PhaseText and label in Go): counts with thousands separators.
  function count(n) {
    return Number(n || 0).toLocaleString("en-US");
  }
  function size(n) {
    var units = ["KiB", "MiB", "GiB"];
    if (n === 1) {
      return "1 byte";
    }
    if (n < 1024) {
      return count(n) + " bytes";
    }
    var i = -1;
    do {
      n /= 1024;
      i++;
    } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(1) + " " + units[i];
  }
  var phases = {
    queued: "Waiting to start",
    reading: "Reading and checking the rows",
    checking: "Checking the whole file against the roster",
    saving: "Saving the changes",
    finishing: "Recording the outcome and the e-mail"
  };
  // The percentage of done in total, or null when there is no total.
  function pct(done, total) {
    return total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : null;
  }
  // [figures in words, percent or null]: PhaseFigures in Go. Null is a
  // phase without a total (checking; reading a file of unknown size): the
  // bar is indeterminate, with no percentage.
  function figures(p) {
    switch (p.phase) {
      case "queued":
        return [size(p.total_bytes) + " to read", 0];
      case "reading":
        return [size(p.bytes_read) + " of " + size(p.total_bytes) + " read, " + count(p.rows_read) + " rows", pct(p.bytes_read, p.total_bytes)];
      case "checking":
        return [count(p.rows_read) + " rows read; " + count(p.done) + (p.done === 1 ? " check" : " checks") + " done", null];
      case "saving":
        return [count(p.done) + " of " + count(p.total) + " users written", pct(p.done, p.total)];
      case "finishing":
        return [count(p.rows_read) + " rows read", 100];
    }
    return ["", null];
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
        var phaseEl = root.querySelector('[data-field="phase"]');
        if (phaseEl) {
          phaseEl.setAttribute("data-phase", p.phase);
        }
        set("phase", phases[p.phase] || p.phase);
        var f = figures(p);
        if (bar) {
          bar.max = 100;
          if (f[1] === null) {
            bar.removeAttribute("value"); // indeterminate: no total
            bar.textContent = "";
          } else {
            bar.value = f[1];
            bar.textContent = f[1] + "%";
          }
        }
        set("figures", f[0]);
        set("status", label(im.status));
        var badge = root.querySelector('[data-field="status"]');
        if (badge) {
          badge.className = "badge " + im.status;
        }
        window.setTimeout(poll, 250);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // offline or signed out: try again, more slowly
      });
  }
  window.setTimeout(poll, 250);
})();
