/* The period list shows the chosen period at once; without JS its button does. */
document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
/* Choosing another agency drops the chosen desk, which may not be one of its desks. */
document.querySelectorAll("select[data-clears]").forEach(function (select) {
  select.addEventListener("change", function () {
    var other = select.form.elements[select.dataset.clears];
    if (other) { other.value = ""; }
  }, true);
});
