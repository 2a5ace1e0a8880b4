// The supervisor's cards, enhanced by htmx: an action swaps its card for the outcome; a refusal the
// server explains (four eyes, a reason missing, a reply already handled) is swapped in with its
// message, as the page shows it without JavaScript. No inline code: the CSP allows this site only.
"use strict";

document.addEventListener("htmx:beforeSwap", function (event) {
  var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
  var status = event.detail.xhr ? event.detail.xhr.status : 0;
  if (elt && elt.closest("[data-swap-errors]") && status >= 400 && status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
