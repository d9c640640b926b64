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

  // A campaign's page follows the send live (server-sent events): state, counts, credits and
  // each recipient's status change in place; the stream ends when the campaign is done.
  var live = document.querySelector("[data-live]");
  if (live && window.EventSource) {
    var source = new EventSource(live.getAttribute("data-live"));
    var put = function (selector, text) { var el = document.querySelector(selector); if (el) el.textContent = text; };
    source.onmessage = function (event) {
      var update = JSON.parse(event.data);
      put("[data-live-state]", update.state_label);
      put("[data-live-status]", update.state);
      put("[data-live-posted]", update.credits_posted);
      put("[data-live-released]", update.credits_released);
      var counts = document.querySelector("[data-live-counts]");
      if (counts) {
        counts.textContent = "";
        update.counts.forEach(function (count) {
          var item = document.createElement("li");
          var tag = document.createElement("span"); tag.className = "tag " + count.status; tag.textContent = count.label;
          var number = document.createElement("b"); number.setAttribute("data-count", count.status); number.textContent = String(count.count);
          item.appendChild(tag); item.appendChild(document.createTextNode(" ")); item.appendChild(number);
          counts.appendChild(item);
        });
      }
      update.changed.forEach(function (line) {
        var row = document.querySelector('tr[data-message="' + line.id + '"]');
        if (!row) return; // on another page of recipients, or filtered out
        var status = row.querySelector('[data-field="status"]');
        if (status) { status.className = "tag " + line.status; status.textContent = line.status_label; }
        ["segments", "charged", "updated"].forEach(function (field) {
          var cell = row.querySelector('[data-field="' + field + '"]'); if (cell) cell.textContent = line[field];
        });
      });
      if (update.done) {
        source.close();
        var note = document.querySelector("[data-live-note]");
        if (note) note.textContent = "This send is " + update.state + ".";
        document.querySelectorAll('form[action$="/cancel"]').forEach(function (form) { form.remove(); }); // nothing left to cancel
      }
    };
  }

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

    function mediaChosen() {
      var media = form.querySelector("[data-media-id]");
      var box = form.querySelector("[data-attach]");
      return !!(media && media.value) && (!box || box.getAttribute("data-mms-mode") === "mms");
    }
    form.addEventListener("media-changed", function () { estimate(); });

    // The price follows the sending number: the reply's thread, or the number chosen under From.
    function senderChannel() {
      var from = form.querySelector("[data-from]");
      if (from && from.selectedOptions.length) return from.selectedOptions[0].getAttribute("data-channel");
      return body.getAttribute("data-channel");
    }
    var fromSelect = form.querySelector("[data-from]");
    if (fromSelect) fromSelect.addEventListener("change", function () { estimate(); });

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
        body: JSON.stringify(mediaChosen() ? { body: body.value, channel: "mms" }
          : (senderChannel() ? { body: body.value, channel: senderChannel() } : { body: body.value }))
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
  // The credits pop-up: opened as a modal dialog (focus moves into it, Escape closes it); without
  // script it shows in place and its Close button still closes it.
  var popup = document.getElementById("credit-popup");
  if (popup && typeof popup.showModal === "function") {
    popup.close();
    popup.showModal();
    var buy = popup.querySelector("[data-testid=popup-buy]");
    if (buy) buy.focus();
  }
  // The composer's contact search: matches as you type (name, number or email), chosen ones as chips.
  document.querySelectorAll("[data-contact-picker]").forEach(function (picker) {
    var search = picker.querySelector("[data-contact-search]");
    var results = picker.querySelector("[data-contact-results]");
    var chosen = picker.querySelector("[data-chosen]");
    var sequence = 0;
    search.hidden = false;
    function changed() { chosen.dispatchEvent(new Event("change", { bubbles: true })); }
    function choose(contact) {
      var already = Array.prototype.some.call(chosen.querySelectorAll("input[name=contacts]"), function (input) { return input.value === contact.id; });
      if (already) return;
      var item = document.createElement("li");
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "contacts"; input.value = contact.id;
      item.appendChild(input);
      item.appendChild(document.createTextNode(contact.name + " · " + contact.phone + " "));
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "link"; remove.textContent = "×";
      remove.setAttribute("data-remove", ""); remove.setAttribute("aria-label", "Remove " + contact.name);
      item.appendChild(remove);
      chosen.appendChild(item);
      changed();
    }
    chosen.addEventListener("click", function (event) {
      if (event.target.hasAttribute("data-remove")) { event.target.parentNode.remove(); changed(); search.focus(); }
    });
    var find = debounce(function () {
      var query = search.value.trim();
      var mine = ++sequence;
      if (query === "") { results.textContent = ""; return; }
      fetch("/app/contacts?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (found) {
          if (mine !== sequence) return; // a newer keystroke's answer wins
          results.textContent = "";
          if (found.length === 0) {
            var none = document.createElement("li");
            none.className = "muted"; none.textContent = "No contact matches “" + query + "”.";
            results.appendChild(none);
          }
          found.forEach(function (contact) {
            var item = document.createElement("li");
            item.setAttribute("role", "option");
            var pick = document.createElement("button");
            pick.type = "button"; pick.className = "link";
            var state = contact.consent === "opted_out" ? " (opted out: will be skipped)" : contact.consent === "pending" ? " (not opted in: will be skipped)" : "";
            pick.textContent = contact.name + " · " + contact.phone + state;
            pick.addEventListener("click", function () { choose(contact); search.value = ""; results.textContent = ""; search.focus(); });
            item.appendChild(pick);
            results.appendChild(item);
          });
        })
        .catch(function () {});
    }, 200);
    search.addEventListener("input", find);
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter picks the first match instead of sending
      var first = results.querySelector("button");
      if (first) first.click();
    });
  });

  // The composer's preview: the exact send (the same dry run a send places), as the sender edits it.
  // Its own attribute: the contacts import's mapping form carries data-preview (its preview's URL),
  // and a panel found by that attribute was the whole form, emptied 400 ms after a column changed.
  document.querySelectorAll("[data-send-preview]").forEach(function (panel) {
    var form = panel.closest("form");
    var sequence = 0;
    var pending = null; // the preview on its way, stopped when a newer one starts
    function add(parent, tag, text, testid) {
      var element = document.createElement(tag);
      if (text !== undefined) element.textContent = text;
      if (testid) element.setAttribute("data-testid", testid);
      parent.appendChild(element);
      return element;
    }
    function list(title, items, testid, line) {
      if (items.length === 0) return;
      add(panel, "h4", title);
      var ul = add(panel, "ul", undefined, testid);
      items.forEach(function (item) { line(add(ul, "li"), item); });
    }
    function heading() { panel.textContent = ""; add(panel, "h3", "This send"); }
    function render(preview) {
      heading();
      add(panel, "p", preview.summary, "preview-summary");
      add(panel, "p", preview.when, "preview-when");
      add(panel, "p", preview.credits, "preview-credits").hidden = true;
      list("Skipped, at no cost", preview.skipped, "preview-skipped", function (li, skip) { li.textContent = skip.count + " " + skip.reason; });
      list("Most expensive texts", preview.most_expensive, "preview-expensive", function (li, line) {
        add(li, "b", line.who); li.appendChild(document.createTextNode(": " + line.credits + ". " + line.text));
      });
      list("Merge-field errors", preview.merge_errors, "preview-merge-errors", function (li, line) {
        add(li, "b", line.who); li.appendChild(document.createTextNode(": " + line.text));
      });
      if (preview.merge_errors_more) add(panel, "p", preview.merge_errors_more).className = "muted";
    }
    function say(text, kind) { heading(); add(panel, "p", text, "preview-summary").className = kind; }
    var update = debounce(function () {
      var data = new URLSearchParams(new FormData(form));
      var anyone = data.getAll("groups").length + data.getAll("contacts").length > 0 || (data.get("to") || "").trim() !== "";
      var mine = ++sequence;
      if (!anyone || (data.get("body") || "") === "") { say("Choose recipients and write the text to see exactly what the send reserves.", "muted"); return; }
      if (pending && window.AbortController) pending.abort();
      pending = window.AbortController ? new AbortController() : null;
      fetch("/app/preview", {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }, body: data,
        signal: pending ? pending.signal : undefined
      })
        .then(function (response) { return response.json().then(function (result) { return { ok: response.ok, body: result }; }); })
        .then(function (result) {
          if (mine !== sequence) return; // a newer edit's answer wins
          if (result.ok) render(result.body); else say(result.body.error ? result.body.error.message : "No preview.", "warning");
        })
        .catch(function () {});
    }, 400);
    form.addEventListener("input", function (event) { if (!event.target.hasAttribute("data-contact-search")) update(); });
    form.addEventListener("change", function (event) { if (!event.target.hasAttribute("data-contact-search")) update(); });
  });

  // A form that deletes something asks first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // A bucket's form buys for the wallet chosen in the purchase box above it.
  document.querySelectorAll("input[data-follows]").forEach(function (hidden) {
    hidden.form.addEventListener("submit", function () {
      var source = document.getElementById(hidden.getAttribute("data-follows"));
      if (source) hidden.value = source.value;
    });
  });

  // Edit credits: the server says, as the number is typed, whether the allotment fits
  // ("Credits per Month cannot be greater than N"); the form is not sent while it does not.
  document.querySelectorAll("input[data-capacity-staff]").forEach(function (input) {
    var note = document.getElementById(input.getAttribute("data-capacity-note"));
    var check = debounce(function () {
      var value = input.value.trim();
      if (!/^[0-9]+$/.test(value)) return;
      fetch("/app/staff/" + encodeURIComponent(input.getAttribute("data-capacity-staff")) + "/credit-capacity?credits=" + value,
        { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          var message = body.message || (body.error && body.error.message) || "";
          input.setCustomValidity(message);
          if (note) { note.textContent = message; note.hidden = message === ""; }
        })
        .catch(function () {});
    }, 150);
    input.addEventListener("input", check);
  });

  // A picture for the text: uploaded at once (checked by the server), shown, and the text then
  // goes as a picture message at the flat MMS price the estimate and the preview show.
  // A picture over the size some carriers shrink or drop is offered a smaller copy, made here
  // in the browser (drawn at most 1280 pixels wide or high, as JPEG) and uploaded in its place.
  document.querySelectorAll("[data-attach]").forEach(function (box) {
    var file = box.querySelector("[data-media-file]");
    var id = box.querySelector("[data-media-id]");
    var note = box.querySelector("[data-media-note]");
    var preview = box.querySelector("[data-media-preview]");
    var shrink = box.querySelector("[data-media-shrink]");
    var friendly = parseInt(box.getAttribute("data-friendly-bytes"), 10) || 614400;
    function say(text) { note.textContent = text; note.hidden = text === ""; }
    function changed() { id.form.dispatchEvent(new Event("media-changed")); id.dispatchEvent(new Event("change", { bubbles: true })); }
    // Decoded with createImageBitmap: the page's content security policy lets no blob: or data:
    // URL into an <img>, and needs none here.
    function smaller(source, done) {
      if (!window.createImageBitmap) { done(null); return; }
      createImageBitmap(source).then(function (image) {
        var attempt = function (side, quality) {
          var scale = Math.min(1, side / Math.max(image.width, image.height));
          var canvas = document.createElement("canvas");
          canvas.width = Math.max(1, Math.round(image.width * scale));
          canvas.height = Math.max(1, Math.round(image.height * scale));
          var context = canvas.getContext("2d");
          context.fillStyle = "#fff"; // transparent parts of a PNG become white, not black
          context.fillRect(0, 0, canvas.width, canvas.height);
          context.drawImage(image, 0, 0, canvas.width, canvas.height);
          canvas.toBlob(function (blob) {
            if (!blob) { done(null); return; }
            if (blob.size <= friendly || side <= 480) { done(blob); return; }
            attempt(Math.round(side * 0.75), Math.max(0.6, quality - 0.1));
          }, "image/jpeg", quality);
        };
        attempt(1280, 0.85);
      }).catch(function () { done(null); });
    }
    if (shrink) shrink.addEventListener("click", function () {
      if (!file.files || file.files.length === 0) return;
      shrink.disabled = true;
      say("Making a smaller copy…");
      smaller(file.files[0], function (blob) {
        shrink.disabled = false;
        if (!blob) { say("A smaller copy could not be made in this browser; the picture goes as it is."); return; }
        var name = file.files[0].name.replace(/\.[A-Za-z0-9]+$/, "") + "-smaller.jpg";
        upload(blob, name, "Smaller copy, " + Math.ceil(blob.size / 1024) + " KB");
      });
    });
    function upload(blob, name, label) {
      var data = new FormData();
      data.append("_csrf", csrf);
      data.append("file", blob, name);
      if (shrink) shrink.hidden = true;
      say("Uploading the picture…");
      fetch("/app/media", { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .then(function (result) {
          if (!result.ok) { id.value = ""; preview.hidden = true; say(result.body.error ? result.body.error.message : "The picture could not be used."); changed(); return; }
          var mode = box.getAttribute("data-mms-mode");
          if (mode === "none") {
            id.value = ""; preview.hidden = true;
            say("Picture messages (MMS) go to the US and Canada only: this text cannot carry a picture.");
            changed();
            return;
          }
          id.value = result.body.id;
          preview.src = "/app/media/" + encodeURIComponent(result.body.id);
          preview.hidden = false;
          var warning = result.body.warnings.length ? ". " + result.body.warnings[0] : "";
          if (label) warning = ". " + label;
          say(mode === "link" ? "Sent as SMS with a link to the picture (MMS does not go to your country)" + warning
            : "MMS · " + box.getAttribute("data-mms-price") + " credits per recipient" + warning);
          // GIFs keep their animation: only still pictures are offered a smaller copy.
          if (shrink) shrink.hidden = !(result.body.image && result.body.size > friendly && result.body.content_type !== "image/gif");
          changed();
        })
        .catch(function () { id.value = ""; preview.hidden = true; say("The picture could not be uploaded; try again."); changed(); });
    }
    file.addEventListener("change", function () {
      if (shrink) shrink.hidden = true;
      if (!file.files || file.files.length === 0) { id.value = ""; preview.hidden = true; say(""); changed(); return; }
      upload(file.files[0], file.files[0].name, "");
    });
  });

  // The voice broadcast composer: the estimate follows what is chosen, and a recording is
  // uploaded when it is picked (its length, read by the server, sets the price).
  document.querySelectorAll("form[data-voice-composer]").forEach(function (form) {
    var ticker = form.querySelector("[data-voice-ticker]");
    var fileInput = form.querySelector("[data-voice-file]");
    var audioID = form.querySelector("[data-voice-audio-id]");
    var status = form.querySelector("[data-voice-file-status]");
    var sequence = 0;
    function show(text, kind) { ticker.textContent = text; ticker.className = "ticker" + (kind ? " " + kind : ""); }
    var update = debounce(function () {
      var data = new URLSearchParams(new FormData(form));
      var anyone = data.getAll("groups").length > 0 || (data.get("to") || "").trim() !== "";
      var audio = data.get("message") === "audio";
      if (!anyone || (audio ? !data.get("audio") : (data.get("say") || "").trim() === "")) {
        show("Choose recipients and the message to see what the broadcast holds.", "muted");
        return;
      }
      var mine = ++sequence;
      fetch("/app/voice-estimate", {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }, body: data
      })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .then(function (result) {
          if (mine !== sequence) return;
          if (result.ok) show(result.body.summary + (result.body.skipped ? " " + result.body.skipped : ""));
          else show(result.body.error ? result.body.error.message : "No estimate.", "warning");
        })
        .catch(function () {});
    }, 400);
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    if (fileInput) fileInput.addEventListener("change", function () {
      if (!fileInput.files || fileInput.files.length === 0) { audioID.value = ""; update(); return; }
      var data = new FormData();
      data.append("_csrf", csrf);
      data.append("file", fileInput.files[0], fileInput.files[0].name);
      status.textContent = "Uploading the recording…";
      fetch("/app/media", { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .then(function (result) {
          if (!result.ok) { audioID.value = ""; status.textContent = result.body.error ? result.body.error.message : "The recording could not be used."; return; }
          audioID.value = result.body.id;
          var audio = form.querySelector("input[name=message][value=audio]");
          if (audio) audio.checked = true;
          status.textContent = "Recording attached: " + fileInput.files[0].name + ".";
          update();
        })
        .catch(function () { status.textContent = "The recording could not be uploaded."; });
    });
  });

  // A voice broadcast still calling: the page follows it until every call is final.
  document.querySelectorAll("[data-reload-while-live]").forEach(function () {
    window.setTimeout(function () { window.location.reload(); }, 2000);
  });
})();
