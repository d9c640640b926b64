// TextCredits portal: the contacts import. The pages work without it; it checks a file's size
// before uploading, updates the preview as columns are chosen, and follows an import's progress
// and shows its result without reloading the page.
(function () {
  "use strict";

  // The upload: a file over the limit is refused before it is sent.
  var upload = document.querySelector("form[data-upload]");
  if (upload) {
    var input = upload.querySelector("input[type=file]");
    var error = document.getElementById("file-error");
    var max = parseInt(upload.getAttribute("data-max-bytes"), 10);
    var check = function () {
      var tooBig = input.files.length > 0 && input.files[0].size > max;
      error.hidden = !tooBig;
      return !tooBig;
    };
    input.addEventListener("change", check);
    upload.addEventListener("submit", function (event) { if (!check()) event.preventDefault(); });
  }

  // The mapping: the preview follows the columns, groups and merge field names as they change.
  var mapping = document.querySelector("form[data-mapping]");
  if (mapping) {
    var target = document.getElementById("import-preview");
    var button = mapping.querySelector("[data-preview-button]");
    if (button) button.hidden = true;
    var timer = null;
    var asked = 0;
    var refresh = function () {
      var query = new URLSearchParams();
      new FormData(mapping).forEach(function (value, name) {
        if (name !== "_csrf" && name !== "step" && name !== "consent_basis") query.append(name, value);
      });
      var ticket = ++asked;
      fetch(mapping.getAttribute("data-preview") + "?" + query.toString(),
            { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null && ticket === asked) target.innerHTML = html; })
        .catch(function () { if (button) button.hidden = false; });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    mapping.addEventListener("change", later);
    mapping.addEventListener("input", function (event) {
      if (event.target.name && event.target.name.indexOf("field_") === 0) later();
    });
  }

  // An import: the progress bar moves as batches are added; the result appears when it is done.
  var job = document.querySelector("[data-import-progress]");
  if (job) {
    var bar = document.getElementById("import-progress");
    var status = job.querySelector("[data-testid=import-status]");
    var processed = job.querySelector("[data-testid=import-processed]");
    var result = document.getElementById("import-result");
    var poll = function () {
      fetch(job.getAttribute("data-import-progress"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (progress) {
          bar.max = Math.max(progress.total, 1);
          bar.value = progress.processed;
          status.textContent = progress.status;
          processed.textContent = progress.processed;
          if (!progress.finished) { setTimeout(poll, 700); return; }
          if (result.querySelector("[data-testid=import-result]")) return;
          return fetch(job.getAttribute("data-import-result"), { headers: { "Accept": "text/html" }, credentials: "same-origin" })
            .then(function (response) { return response.text(); })
            .then(function (html) { result.innerHTML = html; });
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    if (!result.querySelector("[data-testid=import-result]")) poll();
  }
})();
