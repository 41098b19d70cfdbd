/* The citizen form on a phone (progressive enhancement: without JavaScript every step
   posts as a page of its own, as before).
   1. Skip logic: hide an item while its condition is false. A hidden fieldset is
      disabled, so its inputs are not sent; the server ignores them anyway.
   2. Progress stays on the phone: the answers, under the form's submission id, in
      localStorage ("sipas-progress:" + the form's address) for at most a day, removed
      as soon as the receipt shows (here, and by citizen-sent.js on the receipt).
      Opening the same form again (re-scanning the poster, the same dossier code)
      offers to resume it; a reload resumes it at once.
   3. Steps are sent with fetch and drawn in place, one history entry per step and never a
      POST in the browser's history: Back and reload never ask to resend. A send that
      fails (no network) keeps the answers, says so, and is tried again with the same
      submission id when the network is back; storage is exactly-once per id. A fetched
      step comes without this script (header X-Sipas-In-Place), which already runs.
   Other scripts can listen for "sipas:page" on document: a new step has been drawn (a
   step's own inline scripts are not run). */
(function () {
  "use strict";
  var PREFIX = "sipas-progress:", MAX_AGE = 864e5, RETRY_MS = 8000, TIMEOUT_MS = 45000;
  var store = null;
  try {
    store = window.localStorage;
    store.getItem(PREFIX);
  } catch (e) {
    store = null;
  }
  // A staff preview of a questionnaire keeps nothing, not even on this device.
  if (document.body && document.body.hasAttribute("data-preview")) store = null;
  var fetching = !!(window.fetch && window.FormData && window.DOMParser && window.history.pushState);
  var form = null, key = "", uid = "", pending = null, inFlight = false, retryTimer = 0;

  function read(name) {
    try {
      var record = JSON.parse(store.getItem(name));
      return record && record.uid ? record : null;
    } catch (e) {
      return null;
    }
  }
  function write(name, record) {
    try { store.setItem(name, JSON.stringify(record)); } catch (e) { /* full or private */ }
  }
  function drop(name) {
    try { store.removeItem(name); } catch (e) { /* nothing kept */ }
  }

  // Forget progress older than a day (the receipt forgets the form just sent:
  // citizen-sent.js).
  if (store) {
    var names = [];
    for (var i = 0; i < store.length; i++) {
      if (String(store.key(i)).indexOf(PREFIX) === 0) names.push(store.key(i));
    }
    names.forEach(function (name) {
      var record = read(name);
      if (!record || !(Date.now() - record.saved < MAX_AGE)) drop(name);
    });
  }

  function field(name) {
    var el = form && form.elements[name];
    return el && el.value !== undefined ? el.value : "";
  }
  function stepUrl() {
    return form.getAttribute("data-step-url") || location.pathname;
  }

  function update() {
    if (!form) return;
    var items = form.querySelectorAll("[data-show-item]");
    for (var i = 0; i < items.length; i++) {
      var item = items[i], codes = item.getAttribute("data-show-codes").split(" "), on = false;
      var inputs = form.querySelectorAll('input[name="' + item.getAttribute("data-show-item") + '"]');
      for (var j = 0; j < inputs.length; j++) {
        if (inputs[j].checked && codes.indexOf(inputs[j].value) >= 0) on = true;
      }
      item.hidden = !on;
      item.disabled = !on;
    }
  }

  // Every answer the form would send now (earlier steps' answers are hidden inputs).
  function answers() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name.indexOf("a_") === 0 && typeof value === "string" && value.trim() !== "") {
        out.push([name, value]);
      }
    });
    return out;
  }
  function save() {
    if (!store || !form) return;
    var fields = answers(), step = +field("step");
    if (!fields.length && !step) return; // nothing worth keeping yet
    write(key, {
      uid: uid, campaign: field("campaign"), lang: field("lang"), step: step,
      review: field("review"), fields: fields, saved: Date.now()
    });
  }

  function buttons(disabled) {
    var all = form ? form.querySelectorAll("button") : [];
    for (var i = 0; i < all.length; i++) all[i].disabled = disabled;
    if (form) form.setAttribute("aria-busy", disabled ? "true" : "false");
  }

  function send(url, build, final, mode) {
    pending = { url: url, build: build, final: final, mode: mode, from: +field("step") };
    attempt();
  }
  function attempt() {
    var p = pending;
    if (!p || inFlight) return;
    clearTimeout(retryTimer);
    inFlight = true;
    buttons(true);
    var sending = document.getElementById("sending");
    if (sending) sending.hidden = false;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : 0;
    fetch(p.url, {
      method: "POST", body: p.build(), credentials: "same-origin",
      headers: { "X-Sipas-In-Place": "1" }, // the step comes back without this script
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.text().then(function (html) { return [response, html]; });
    }).then(function (got) {
      clearTimeout(timer);
      inFlight = false;
      pending = null;
      arrived(got[0], got[1], p);
    }, function () {
      clearTimeout(timer);
      inFlight = false;
      failed(p);
    });
  }

  function failed(p) {
    buttons(false);
    var sending = document.getElementById("sending");
    if (sending) sending.hidden = true;
    var box = document.getElementById("offline");
    if (box) {
      box.querySelector("[data-offline-final]").hidden = !p.final;
      box.querySelector("[data-offline-step]").hidden = p.final;
      if (box.hidden) {
        box.hidden = false;
        box.scrollIntoView({ block: "center" });
      }
    }
    retryTimer = setTimeout(attempt, RETRY_MS);
  }

  function arrived(response, html, p) {
    var path = response.redirected ? new URL(response.url).pathname : "";
    if (/^\/r\/[^/]+$/.test(path)) {
      // Stored: nothing of the answers stays on the phone; the receipt replaces the
      // last step in the history, and Back reaches only the form's own address (GET).
      drop(key);
      form = null;
      location.replace(response.url);
      return;
    }
    // The response's style and script elements carry another nonce: parsed, even inert, they
    // would break this page's policy; this page's own are already in force.
    var doc = new DOMParser().parseFromString(
      html.replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1>/gi, ""), "text/html");
    if (!doc.querySelector("main")) {
      location.replace(location.pathname);
      return;
    }
    ["header.top", "main"].forEach(function (selector) {
      var fresh = doc.querySelector(selector), old = document.querySelector(selector);
      if (!fresh || !old) return;
      old.parentNode.replaceChild(document.importNode(fresh, true), old);
    });
    document.title = doc.title;
    document.documentElement.lang = doc.documentElement.lang;
    start(p.mode, p.from);
    window.scrollTo(0, 0);
    var target = document.getElementById("errors") || document.querySelector("main h1");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
    document.dispatchEvent(new CustomEvent("sipas:page"));
    follow();
  }

  function resume(record) {
    var data = new FormData();
    data.append("csrf_token", field("csrf_token"));
    data.append("uid", record.uid);
    data.append("campaign", record.campaign);
    data.append("lang", record.lang);
    data.append("step", String(record.step));
    if (record.review === "1") data.append("review", "1"); // a part opened from the review
    record.fields.forEach(function (f) { data.append(f[0], f[1]); });
    data.append("action", "stay");
    send(stepUrl(), function () { return data; }, false, "replace");
  }

  function offer(record) {
    var box = document.getElementById("resume");
    if (!box) return;
    var text = box.querySelector("[data-resume-text]");
    // The review comes after the last part: "up to part 11/11" there too.
    var n = Math.min(record.step + 1, +text.getAttribute("data-total") || record.step + 1);
    text.textContent = text.getAttribute("data-template").replace("{n}", String(n));
    box.hidden = false;
    box.querySelector("[data-resume-yes]").addEventListener("click", function () {
      box.hidden = true;
      resume(record);
    });
    box.querySelector("[data-resume-no]").addEventListener("click", function () {
      drop(key);
      box.hidden = true;
    });
  }

  // How this page was opened: a re-scanned poster in the same tab is a "navigate" that
  // keeps the history state, and gets the offer, not the answers.
  function navigationType() {
    var entries = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation") : [];
    return entries.length ? entries[0].type : "navigate";
  }

  // Set up the form drawn now; ``mode`` says how it enters the history: "load", "replace",
  // "keep" (the entry is already the step's: Back, Forward), or "auto" (a new entry when
  // the step is not ``from``, the step the citizen was on).
  function start(mode, from) {
    form = document.querySelector("form.survey");
    if (!form) {
      // A page instead of the form (a limit, a campaign that ended): Back leaves it.
      if (fetching && mode === "auto") window.history.pushState({ sipasPage: true }, "", location.href);
      return;
    }
    uid = field("uid");
    key = PREFIX + stepUrl();
    update();
    var state = { sipasForm: uid, step: +field("step") };
    var before = window.history.state;
    if (fetching && mode !== "keep") {
      if (mode === "auto" && state.step !== from) window.history.pushState(state, "", location.pathname + location.search);
      else window.history.replaceState(state, "", location.pathname + location.search);
    }
    var record = store && read(key);
    if (record && record.uid !== uid) {
      if (record.campaign !== field("campaign") || !record.fields.length) {
        drop(key);
      } else if (fetching && mode === "load" && before && before.sipasForm === record.uid &&
                 /^(reload|back_forward)$/.test(navigationType())) {
        resume(record); // reload, or Back into the form: the same citizen
      } else if (fetching) {
        offer(record);
      }
      return;
    }
    save();
  }

  document.addEventListener("change", function (e) {
    if (!form || !form.contains(e.target)) return;
    update();
    var box = document.getElementById("resume");
    if (box) box.hidden = true; // answering the new form: it is the one kept
    save();
  });
  document.addEventListener("input", function (e) {
    if (form && form.contains(e.target)) save();
  });

  document.addEventListener("submit", function (e) {
    if (!fetching || !form || e.target !== form) return;
    e.preventDefault();
    if (inFlight) return;
    var button = e.submitter && e.submitter.form === form ? e.submitter
      : form.querySelector('button[value="next"]');
    var action = button ? button.value : "next";
    var url = (button && button.getAttribute("formaction")) || form.getAttribute("action");
    save();
    send(url, function () {
      var data = new FormData(form);
      data.append("action", action);
      return data;
    }, /\/submit$/.test(url), "auto");
  });

  document.addEventListener("click", function (e) {
    var retry = e.target.closest && e.target.closest("[data-offline-retry]");
    if (retry && pending) attempt();
  });
  window.addEventListener("online", function () {
    if (pending) attempt();
  });

  // Back and Forward between steps: show the step of the history entry the browser is
  // on, keeping every answer (again after a step arrives, if Back was pressed meanwhile).
  function follow() {
    var s = window.history.state;
    if (!form || inFlight || !s || s.sipasForm !== uid || s.step === +field("step")) return;
    send(stepUrl(), function () {
      var data = new FormData(form);
      data.set("step", String(s.step));
      data.append("action", "stay");
      return data;
    }, false, "keep");
  }
  window.addEventListener("popstate", function (e) {
    if (!form && e.state && e.state.sipasForm) {
      location.reload(); // from a page drawn instead of the form: the form, resumed
      return;
    }
    follow();
  });

  start("load");
})();
