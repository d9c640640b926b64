// TextCredits portal: small enhancements over pages that work without JavaScript.
// Live character counters, the purchase total, the message estimate ticker, print buttons,
// and self-refreshing campaign progress.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function length(text) { return Array.from(text).length; } // characters as the server counts them (Unicode scalars)

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // Character counters: every field with data-limit describes itself by an element whose id ends in "-count".
  document.querySelectorAll("[data-limit]").forEach(function (field) {
    var ids = (field.getAttribute("aria-describedby") || "").split(" ");
    var counter = document.getElementById(ids.filter(function (id) { return /-count$/.test(id); })[0]);
    if (!counter) return;
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    function update() {
      var used = length(field.value);
      counter.textContent = used > limit ? (used - limit) + " over the " + limit + "-character limit"
                                         : used + " of " + limit + " characters";
      counter.classList.toggle("over", used > limit);
    }
    field.addEventListener("input", update);
    update();
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var refresh = document.querySelector("[data-refresh]");
  if (refresh) setTimeout(function () { location.reload(); }, 1000 * parseFloat(refresh.getAttribute("data-refresh")));

  // Purchase totals: a credits box names the element that shows its price, tax and total.
  document.querySelectorAll("[data-quote-input]").forEach(function (input) {
    var target = document.getElementById(input.getAttribute("data-quote-input"));
    if (!target) return;
    var update = debounce(function () {
      var credits = parseInt(input.value, 10);
      if (!(credits > 0)) return;
      fetch("/app/quote?credits=" + credits, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .then(function (result) {
          if (!result.ok) {
            var message = result.body.error ? result.body.error.message : "No price for that amount.";
            if (target.hasAttribute("data-quote-total")) target.textContent = message;
            else { var total = target.querySelector('[data-quote="total"]'); if (total) total.textContent = message; }
            return;
          }
          var quote = result.body;
          if (target.hasAttribute("data-quote-total")) { target.textContent = quote.total.text; return; }
          var set = function (name, text) { var el = target.querySelector('[data-quote="' + name + '"]'); if (el) el.textContent = text; };
          set("subtotal", quote.subtotal.text);
          set("tax_name", quote.tax ? quote.tax.name + " " + quote.tax.rate : "Tax");
          set("tax", quote.tax ? quote.tax.amount.text : "none");
          set("total", quote.total.text);
        })
        .catch(function () {});
    }, 200);
    input.addEventListener("input", update);
  });

  // The estimate ticker: characters, segments, encoding and credits, for the whole send.
  document.querySelectorAll("[data-estimate]").forEach(function (body) {
    var form = body.form;
    var reply = body.getAttribute("data-estimate") === "reply";
    var part = function (name) { return form.querySelector('[data-t="' + name + '"]'); };
    var ticker = form.querySelector("[data-ticker]");
    var latest = null;
    var sequence = 0;

    function recipients() {
      if (reply) return 1;
      var count = 0;
      form.querySelectorAll("input[data-recipients]:checked").forEach(function (box) { count += parseInt(box.getAttribute("data-recipients"), 10) || 0; });
      var select = form.querySelector("[data-recipients-select]");
      if (select) count += select.selectedOptions.length;
      var lines = form.querySelector("[data-recipients-lines]");
      if (lines) count += lines.value.split(/[\n,;]/).filter(function (line) { return line.trim() !== ""; }).length;
      return count;
    }

    function text(name, value) { var el = part(name); if (el) el.textContent = value; }

    function show() {
      var count = recipients();
      text("recipients", String(count));
      text("recipients_word", count === 1 ? "recipient" : "recipients");
      if (!latest) { text("characters", "0"); text("segments", "0"); text("credits", "0"); text("total", "0"); return; }
      text("characters", String(latest.characters));
      text("segments", String(latest.segments));
      text("encoding", latest.encoding);
      text("credits", String(latest.credits));
      var total = Math.round(latest.credits * (reply ? 1 : count) * 1000) / 1000;
      text("total", String(total));
      if (ticker) ticker.classList.toggle("ucs2", latest.encoding !== "GSM-7");
      var ucs2 = part("ucs2");
      if (ucs2) {
        var characters = (latest.ucs2_characters || []).map(function (c) { return c.character; })
          .filter(function (c, index, all) { return all.indexOf(c) === index; });
        ucs2.hidden = characters.length === 0;
        ucs2.textContent = characters.length === 0 ? "" :
          "These characters switch the text to UCS-2 (70 characters per segment): " + characters.map(function (c) { return "“" + c + "”"; }).join(" ");
      }
      var smart = part("smart");
      if (smart) {
        var offer = latest.smart_encoding && !latest.smart_encoding.enabled && latest.smart_encoding.replacements.length > 0;
        smart.hidden = !offer;
        if (offer) {
          var saved = latest.credits - latest.smart_encoding.alternative_credits;
          text("smart_note", "Replaces " + latest.smart_encoding.replacements.map(function (r) { return "“" + r.original + "” with “" + r.replacement + "”"; }).join(", ") +
            (saved > 0 ? "; saves " + saved + " credits per text." : "."));
        }
      }
      var warnings = part("warnings");
      if (warnings) {
        warnings.textContent = "";
        (latest.warnings || []).filter(function (w) { return w.code !== "non_gsm_character" && w.code !== "emoji"; }).forEach(function (w) {
          var item = document.createElement("li");
          item.textContent = w.message;
          warnings.appendChild(item);
        });
      }
    }

    function failed(message) {
      latest = null;
      show();
      var warnings = part("warnings");
      if (warnings) { warnings.textContent = ""; var item = document.createElement("li"); item.textContent = message; warnings.appendChild(item); }
    }

    var estimate = debounce(function () {
      if (body.value === "") { latest = null; show(); return; }
      var mine = ++sequence;
      fetch("/app/estimate", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ body: body.value })
      })
        .then(function (response) { return response.json().then(function (result) { return { ok: response.ok, body: result }; }); })
        .then(function (result) {
          if (mine !== sequence) return; // a newer keystroke's answer wins
          if (result.ok) { latest = result.body; show(); } else { failed(result.body.error ? result.body.error.message : "No estimate."); }
        })
        .catch(function () {});
    }, 150);

    body.addEventListener("input", estimate);
    form.addEventListener("change", show);
    form.addEventListener("input", function (event) { if (event.target !== body) show(); });
    var fix = form.querySelector("[data-smart-fix]");
    if (fix) fix.addEventListener("click", function () {
      if (!latest) return;
      var value = body.value;
      latest.smart_encoding.replacements.forEach(function (r) { value = value.split(r.original).join(r.replacement); });
      body.value = value;
      estimate();
      body.focus();
    });
    if (body.value !== "") estimate(); else show();
  });
  // A form that deletes something asks first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();
