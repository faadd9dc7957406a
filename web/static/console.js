// The console works without this file; it only adds conveniences:
// a confirmation before irreversible forms, response templates filled in
// without a page load, and printing.
"use strict";
document.addEventListener("submit", function (e) {
  var f = e.target.closest("[data-confirm]");
  if (f && !window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
});
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-template]");
  if (t) {
    var box = document.getElementById("text");
    if (box) { e.preventDefault(); box.value = t.getAttribute("data-template"); box.focus(); }
    return;
  }
  if (e.target.closest("[data-print]")) window.print();
});
