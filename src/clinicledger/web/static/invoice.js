// The new-invoice form: "Add a line" copies the last row, blank, as the next one. The
// form works without this script (it comes with five rows).
"use strict";
(function () {
  var button = document.getElementById("add-line");
  var body = document.querySelector("#invoice-lines tbody");
  if (!button || !body) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = body.querySelectorAll("tr.line-row");
    var last = rows[rows.length - 1];
    var n = Number(last.getAttribute("data-row")) + 1;
    var copy = last.cloneNode(true);
    copy.setAttribute("data-row", String(n));
    copy.classList.remove("invalid");
    copy.querySelector("td.id").textContent = String(n);
    copy.querySelectorAll("select, input").forEach(function (field) {
      var part = field.name.replace(/^line-\d+-/, "");
      field.name = "line-" + n + "-" + part;
      field.id = field.name;
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
      field.removeAttribute("autofocus");
      field.setAttribute("aria-label", "Line " + n + ": " + field.getAttribute("aria-label").replace(/^Line \d+: /, ""));
      if (part === "charge" || part === "fee") { field.value = ""; }
    });
    body.appendChild(copy);
    copy.querySelector("select").focus();
  });
})();
