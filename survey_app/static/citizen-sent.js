/* Receipt page: forget on this phone the progress kept of the form just sent (citizen.js
   keeps it in localStorage under "sipas-progress:" + the form's address), so a shared
   phone never offers the previous citizen's answers. */
(function () {
  "use strict";
  try {
    var uid = document.querySelector("[data-sent-uid]").getAttribute("data-sent-uid"), names = [];
    for (var i = 0; i < localStorage.length; i++) {
      if (String(localStorage.key(i)).indexOf("sipas-progress:") === 0) names.push(localStorage.key(i));
    }
    names.forEach(function (name) {
      var record = JSON.parse(localStorage.getItem(name) || "null");
      if (!record || record.uid === uid) localStorage.removeItem(name);
    });
  } catch (e) { /* no storage: nothing kept */ }
})();
