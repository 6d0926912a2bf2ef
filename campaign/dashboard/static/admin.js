/* The dashboard's only script: live fragments and the calendar's drag and drop.
   Everything works without it (forms submit normally); it adds what a person expects. */
(function () {
  "use strict";

  /* <form data-live="URL" data-live-target="ID">: on every change, GET URL with the form's
     fields (never the CSRF token) and put the server's HTML fragment into #ID. */
  function live(form) {
    var target = document.getElementById(form.dataset.liveTarget);
    if (!target) return;
    var timer = null;
    var serial = 0;
    function refresh() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrf" && typeof value === "string") params.append(name, value);
      });
      var mine = ++serial;
      fetch(form.dataset.live + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null && mine === serial) target.innerHTML = html; })
        .catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    refresh();
  }

  /* Calendar: drag a pending item onto another day; the hidden form posts the move. */
  function calendar(grid) {
    var form = document.getElementById(grid.dataset.moveForm);
    if (!form) return;
    var dragged = null;
    grid.addEventListener("dragstart", function (event) {
      var item = event.target.closest && event.target.closest("[draggable=true]");
      if (!item) return;
      dragged = item;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.id);
    });
    grid.addEventListener("dragover", function (event) {
      if (dragged && event.target.closest("[data-day]")) event.preventDefault();
    });
    grid.addEventListener("drop", function (event) {
      var day = event.target.closest("[data-day]");
      if (!dragged || !day) return;
      event.preventDefault();
      form.elements.kind.value = dragged.dataset.kind;
      form.elements.item_id.value = dragged.dataset.id;
      form.elements.at.value = day.dataset.day + "T" + dragged.dataset.time;
      form.submit();
    });
  }

  /* Newsletter form: only the chosen template's fields are shown, and the preview beside the
     block editor follows the form (its button, pressed for the person, after a pause). */
  function newsletterForm(form) {
    var template = form.elements.template;
    function showFields() {
      form.querySelectorAll("fieldset[data-template]").forEach(function (set) {
        set.hidden = template && set.dataset.template !== template.value;
      });
    }
    if (template) { template.addEventListener("change", showFields); showFields(); }
    /* After a block editor button the page comes back with that block's field marked
       autofocus; browsers skip autofocus in some cases, so it is focused here as well. */
    var focused = form.querySelector("[autofocus]");
    if (focused) { focused.focus(); focused.scrollIntoView({ block: "center" }); }
    var button = document.getElementById("draft-preview-button");
    if (!button) return;
    var timer = null;
    function refresh() { form.requestSubmit(button); }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 800); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-live]").forEach(live);
    var newsletter = document.getElementById("newsletter-form");
    if (newsletter) newsletterForm(newsletter);
    document.querySelectorAll("[data-move-form]").forEach(calendar);
  });
})();
