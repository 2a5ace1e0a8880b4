// The strategy desk's editor: after a check that found a problem, the cursor goes to its line and
// column in the text (the page says where in words and beside the line without this).
"use strict";

(function () {
  function toProblem() {
    var area = document.getElementById("policy-text");
    if (!area || !area.dataset.line) {
      return;
    }
    var line = parseInt(area.dataset.line, 10);
    var column = parseInt(area.dataset.column || "1", 10);
    var lines = area.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) {
      offset += lines[i].length + 1;
    }
    offset += Math.max(0, column - 1);
    area.focus();
    area.setSelectionRange(offset, offset);
    var height = area.scrollHeight / Math.max(1, lines.length);
    area.scrollTop = Math.max(0, (line - 5) * height);
  }
  document.addEventListener("DOMContentLoaded", toProblem);
})();
