// Onramp's progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // On a phone the navigation is one row that scrolls sideways: bring the current page's entry
  // into view, or it may sit past the right edge.
  var nav = document.querySelector(".sidebar");
  var current = nav && nav.querySelector('[aria-current="page"]');
  if (current && nav.scrollWidth > nav.clientWidth) {
    var at = current.getBoundingClientRect(), box = nav.getBoundingClientRect();
    nav.scrollLeft += at.left - box.left - (nav.clientWidth - at.width) / 2;
  }

  // Open a confirmation dialog that htmx loaded into #dialog-slot.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var dialog = ev.detail.target.querySelector("dialog");
    if (dialog && !dialog.open) {
      document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
      dialog.showModal();
      dialog.addEventListener("close", function () { dialog.remove(); });
    }
  });

  // A confirmed action can take a while (thousands of users): say so, and make a second click
  // impossible, rather than leave a button that seems to do nothing.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("confirm-form")) { return; }
    if (ev.submitter && ev.submitter.getAttribute("formmethod") === "dialog") { return; }
    var progress = form.querySelector(".confirm-progress");
    if (progress) { progress.hidden = false; }
    form.setAttribute("aria-busy", "true");
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Close open menus when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(ev.target)) { d.open = false; }
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
    }
  });

  // Copy buttons: <button data-copy="id"> copies the value of that input, or the text of that
  // element, and selects it too (so that it is copied even where the clipboard API is refused).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) { return; }
    var source = document.getElementById(btn.getAttribute("data-copy"));
    if (!source) { return; }
    var text;
    if ("value" in source) {
      text = source.value;
      source.select();
    } else {
      text = source.textContent.trim();
      var range = document.createRange();
      range.selectNodeContents(source);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
    }
    var done = function () {
      var label = btn.getAttribute("data-label") || btn.textContent;
      btn.setAttribute("data-label", label);
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = label; }, 1500);
    };
    var fallback = function () {
      document.execCommand("copy");
      done();
    };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });

  // "Select all" checkboxes: <input type="checkbox" data-select-all="ids"> toggles every
  // checkbox named "ids" in the same form.
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest("[data-select-all]");
    if (!all || !all.form) { return; }
    all.form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-select-all") + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // Selected-row counters: <span data-selected-count="ids" hidden> in a form says how many of
  // its checkboxes named "ids" are ticked ("3 selected"), and hides when none is.
  function countSelected(form) {
    form.querySelectorAll("[data-selected-count]").forEach(function (out) {
      var n = form.querySelectorAll('input[type=checkbox][name="' + out.getAttribute("data-selected-count") + '"]:checked').length;
      out.textContent = n + " selected";
      out.hidden = n === 0;
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.form) { countSelected(ev.target.form); }
  });
  // A browser restores ticked boxes on Back: count them once the page is shown.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form").forEach(countSelected);
  });
})();
