// The E-post and SMS tabs: insert a merge field where the cursor is, and show each
// template's preview with sample data (and on the SMS tab its estimated length) as the
// operator types. The server does the work (the same rules as at save), so this file
// only sends the text and shows the answer. Same-origin, no inline script (CSP 'self').
"use strict";

(function () {
  const form = document.querySelector("form.message-templates");
  if (!form) {
    return;
  }
  const url = form.dataset.preview;
  const token = form.querySelector('input[name="csrf_token"]').value;
  const texts = Array.from(form.querySelectorAll(".template-text"));
  let target = texts.find((el) => el.tagName === "TEXTAREA") || null;

  function show(el, answer) {
    const preview = document.getElementById(el.dataset.previewTarget);
    if (preview) {
      if (!el.value.trim()) {
        preview.textContent = preview.dataset.empty || "";
      } else if (answer.problems.length) {
        preview.textContent = answer.problems.join(" ");
      } else {
        preview.textContent = answer.preview;
      }
    }
    const length = document.getElementById(el.dataset.lengthTarget || "");
    if (length && answer.length) {
      length.textContent = el.value.trim() ? answer.length.text : "";
      length.dataset.characters = answer.length.characters;
      length.dataset.encoding = answer.length.encoding;
      length.dataset.segments = answer.length.segments;
    }
  }

  const pending = new Map();
  const sequence = new Map();

  function update(el) {
    // One request per pause in typing; an older answer never overwrites a newer one.
    clearTimeout(pending.get(el));
    pending.set(
      el,
      setTimeout(function () {
        const number = (sequence.get(el) || 0) + 1;
        sequence.set(el, number);
        const body = new URLSearchParams({
          csrf_token: token,
          text: el.value,
          kind: el.dataset.kind || "",
        });
        fetch(url, { method: "POST", body: body, credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : null))
          .then(function (answer) {
            if (answer && sequence.get(el) === number) {
              show(el, answer);
            }
          })
          .catch(function () {});
      }, 150),
    );
  }

  texts.forEach(function (el) {
    el.addEventListener("focus", function () {
      target = el;
    });
    el.addEventListener("input", function () {
      update(el);
    });
  });

  form.querySelectorAll("button.merge-field").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!target) {
        return;
      }
      const field = "{{ " + button.dataset.field + " }}";
      const start = target.selectionStart ?? target.value.length;
      const end = target.selectionEnd ?? target.value.length;
      target.setRangeText(field, start, end, "end");
      target.focus();
      update(target);
    });
  });
})();
