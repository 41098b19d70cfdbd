/* Aids for elderly and low-literacy citizens (progressive enhancement, nothing loaded):
   a larger-text switch remembered on the phone, the focus on the error summary, and
   "Nghe câu hỏi", which reads a question and its options with the phone's own voices. */
(function () {
  var KEY = "sipas.textSize", root = document.documentElement;
  function stored() {
    try { return window.localStorage.getItem(KEY) === "large"; } catch (e) { return false; }
  }
  // Before the page is drawn, so a page never flashes small text first.
  if (stored()) root.classList.add("large-text");

  function textSwitch() {
    var button = document.getElementById("textsize");
    if (!button) return;
    try { window.localStorage.getItem(KEY); } catch (e) { return; }  // nowhere to remember it
    function show() { button.setAttribute("aria-pressed", root.classList.contains("large-text") ? "true" : "false"); }
    button.addEventListener("click", function () {
      var large = root.classList.toggle("large-text");
      try { window.localStorage.setItem(KEY, large ? "large" : "normal"); } catch (e) { /* kept for this page only */ }
      show();
    });
    show();
    button.hidden = false;
  }

  function errorSummary() {
    var summary = document.getElementById("errors");
    if (!summary) return;
    if (document.activeElement !== summary) summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      field.focus();
      var box = field.closest(".item") || field;
      box.scrollIntoView({block: "start"});
    });
  }

  function speechLang() {
    var lang = (root.getAttribute("lang") || "vi").toLowerCase();
    return lang === "vi" ? "vi-VN" : lang;
  }

  function voiceFor(lang) {
    var prefix = lang.split("-")[0], voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if ((voices[i].lang || "").toLowerCase().replace("_", "-") === lang.toLowerCase()) return voices[i];
    }
    for (var j = 0; j < voices.length; j++) {
      if ((voices[j].lang || "").toLowerCase().split(/[-_]/)[0] === prefix) return voices[j];
    }
    return null;
  }

  function spokenText(button) {
    var item = button.closest(".item"), parts = [];
    var head = item.querySelector("legend") || item.querySelector("label");
    if (head) {
      var copy = head.cloneNode(true), drop = copy.querySelectorAll(".code, .req, .speak");
      for (var i = 0; i < drop.length; i++) drop[i].remove();
      parts.push(copy.textContent.trim());
    }
    var options = item.querySelectorAll(".opt span");
    for (var j = 0; j < options.length; j++) parts.push(options[j].textContent.trim());
    return parts.join(". ");
  }

  function readAloud() {
    var buttons = document.querySelectorAll("button.speak");
    if (!buttons.length || !("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") return;
    var lang = speechLang();
    function offer() {
      var voice = voiceFor(lang);
      for (var i = 0; i < buttons.length; i++) buttons[i].hidden = !voice;
      return voice;
    }
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        var voice = voiceFor(lang);
        if (!voice) return;
        var utterance = new SpeechSynthesisUtterance(spokenText(event.currentTarget));
        utterance.lang = lang;
        utterance.voice = voice;
        utterance.rate = 0.9;
        window.speechSynthesis.cancel();
        window.speechSynthesis.speak(utterance);
      });
    }
    // Chrome lists its voices only after they load.
    if (!offer()) {
      if (window.speechSynthesis.addEventListener) window.speechSynthesis.addEventListener("voiceschanged", offer);
      else window.speechSynthesis.onvoiceschanged = offer;
    }
  }

  function start() { textSwitch(); errorSummary(); readAloud(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
