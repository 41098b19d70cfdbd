/* Staff pages on a phone: the menu folds behind its button, and the sections marked
   data-fold fold under their headings, each heading a button that opens its section.
   On a laptop, and without JavaScript, everything stays open. */
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 40rem)").matches) return;

  function disclose(button, panel, open) {
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  }

  var toggle = document.querySelector(".menu-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (menu) {
    toggle.hidden = false;
    disclose(toggle, menu, false);
    toggle.addEventListener("click", function () {
      disclose(toggle, menu, toggle.getAttribute("aria-expanded") !== "true");
    });
  }

  var sections = [];
  document.querySelectorAll("section[data-fold]").forEach(function (section, index) {
    var heading = section.querySelector("h2");
    if (!heading) return;
    var body = document.createElement("div");
    body.id = "fold-" + index;
    while (heading.nextSibling) body.appendChild(heading.nextSibling);
    section.appendChild(body);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "fold";
    button.setAttribute("aria-controls", body.id);
    while (heading.firstChild) button.appendChild(heading.firstChild);
    heading.appendChild(button);
    button.addEventListener("click", function () {
      disclose(button, body, button.getAttribute("aria-expanded") !== "true");
    });
    sections.push({ section: section, button: button, body: body });
  });

  // A link to a place inside a folded section (the comments' pages: #comments-h) opens it.
  function target() {
    return location.hash ? document.getElementById(location.hash.slice(1)) : null;
  }
  var first = target();
  sections.forEach(function (s) {
    disclose(s.button, s.body, Boolean(first && s.section.contains(first)));
  });
  window.addEventListener("hashchange", function () {
    var found = target();
    sections.forEach(function (s) {
      if (found && s.section.contains(found)) disclose(s.button, s.body, true);
    });
  });
})();
