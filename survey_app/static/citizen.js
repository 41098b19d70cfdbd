/* Skip logic (progressive enhancement): hide an item while its condition is false.
   A hidden fieldset is disabled, so its inputs are not sent; the server ignores them anyway. */
(function () {
  var form = document.querySelector("form.survey");
  if (!form) return;
  var items = form.querySelectorAll("[data-show-item]");
  function update() {
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
  form.addEventListener("change", update);
  update();
})();
