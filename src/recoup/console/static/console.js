// The console's own script: small enhancements over pages that work without it. Each area that
// draws adds its function below (or its own file); data comes from <script type="application/json">
// blocks, never inline code (the Content-Security-Policy allows scripts from this site only).
"use strict";

(function () {
  // A reveal form swapped in place by htmx closes its <details>; nothing else to do here yet.
  document.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (target && event.detail.xhr) {
      var note = document.createElement("p");
      note.className = "error";
      note.setAttribute("role", "alert");
      note.textContent = event.detail.xhr.status + " " + (event.detail.xhr.statusText || "");
      target.appendChild(note);
    }
  });
})();
