// The allocation form: "Left to allocate" follows the amounts as they are typed (the
// page shows it again after a submit without this script), and says so when they add up
// to more than there is to apply (a payment's, or a patient's credit: the note's words
// are the page's). Amounts are read as cents, never as floats.
"use strict";
(function () {
  var form = document.getElementById("allocate-form");
  var left = document.getElementById("left");
  var unallocated = document.getElementById("unallocated");
  if (!form || !left || !unallocated) { return; }
  var figure = document.getElementById("left-figure");
  var note = document.getElementById("left-note");
  var available = Number(unallocated.getAttribute("data-cents"));
  var amount = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/;

  function cents(text) {
    var found = amount.exec(text);
    if (!found) { return null; }
    return Number(found[1]) * 100 + Number(((found[2] || "") + "00").slice(0, 2));
  }

  function shown(value) {
    var whole = Math.floor(Math.abs(value) / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var part = ("0" + (Math.abs(value) % 100)).slice(-2);
    return value < 0 ? "($" + whole + "." + part + ")" : "$" + whole + "." + part;
  }

  function update() {
    var typed = 0;
    form.querySelectorAll("input.amount").forEach(function (input) {
      var value = input.value.trim() === "" ? 0 : cents(input.value);
      input.classList.toggle("unreadable", value === null);
      typed += value || 0;
    });
    var rest = available - typed;
    left.textContent = shown(rest);
    left.setAttribute("data-cents", String(rest));
    left.classList.toggle("negative", rest < 0);
    figure.classList.toggle("over", rest < 0);
    note.textContent = note.getAttribute(rest < 0 ? "data-over" : "data-under");
  }

  form.addEventListener("input", update);
  update();
})();
