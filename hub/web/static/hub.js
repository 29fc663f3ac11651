/* Tributary admin: progress polling for sync runs, confirm prompts, auto-submitting selects and
   widths given as data-width (the pages carry no inline script or style: see the CSP). */
(function () {
  "use strict";

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  /* Words the page shows, in the page's language (data-labels on #run, from the template). */
  function label(run, word) {
    var labels = JSON.parse(run.getAttribute("data-labels") || "{}");
    return labels[word] || word;
  }

  function render(run, data) {
    var bar = document.getElementById("run-bar");
    var pct = data.percent;
    if (bar) {
      bar.classList.toggle("indeterminate", pct === null && !data.finished);
      bar.style.width = (pct === null ? (data.finished ? 100 : 30) : pct) + "%";
      bar.parentNode.setAttribute("aria-valuenow", pct === null ? 0 : pct);
      bar.classList.toggle("failed", data.status === "failed");
    }
    var status = document.querySelector("#run-status .badge");
    if (status) {
      status.textContent = label(run, data.status);
      status.className = "badge badge-" + data.status;
    }
    text("run-count", data.done + (data.total ? " / " + data.total : "") + " " + label(run, "records") +
      (pct === null ? "" : " · " + pct + "%"));
    if (data.error_message) {
      document.getElementById("run-error").hidden = false;
      text("run-error-class", data.error_class ? label(run, data.error_class) : "");
      text("run-error-message", data.error_message);
      text("run-advice", data.advice || "");
    }
  }

  function poll(run) {
    var url = run.getAttribute("data-progress-url");
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        render(run, data);
        if (data.finished) {
          run.setAttribute("data-finished", "true");
          window.setTimeout(function () { window.location.reload(); }, 600);
        } else {
          window.setTimeout(function () { poll(run); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(run); }, 3000); });
  }

  /* The segment builder's live count: the form posted to its data-preview-url as the admin
     edits it (debounced), the answer's count (or error) shown in #segment-count. */
  function livePreview(form) {
    var out = document.getElementById("segment-count");
    var timer = null;
    function ask() {
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          out.textContent = data.error ? (out.getAttribute("data-error-label") + ": " + data.error)
            : String(data.count);
          out.classList.toggle("error", Boolean(data.error));
        })
        .catch(function () { out.textContent = "—"; });
    }
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 400);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    ask();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = el.getAttribute("data-width") + "%";
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var run = document.getElementById("run");
    if (run && run.getAttribute("data-finished") !== "true") { poll(run); }
    document.querySelectorAll("form[data-preview-url]").forEach(livePreview);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
  });
})();
