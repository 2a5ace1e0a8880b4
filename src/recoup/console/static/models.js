// The model page's charts, drawn by Chart.js (served by the console, no network) from the page's
// <script type="application/json" id="models-data"> block: the reliability diagram (predicted
// against observed, at training and since, over the diagonal a calibrated model follows) and the
// AUC of each scoring day beside the cross-validated AUC. Without JavaScript, or without the
// library, the tables under each chart carry the same figures.
"use strict";

(function () {
  var COLOURS = ["#0b5fad", "#b3261e", "#1e7b3a", "#8a5a00"];

  function percentAxis(title) {
    return {
      min: 0, max: 1, title: { display: true, text: title },
      ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } }
    };
  }

  var DRAW = {
    reliability: function (canvas, spec) {
      var datasets = [{
        label: "y = x", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: "#999",
        borderDash: [4, 4], pointRadius: 0, showLine: true
      }];
      spec.series.forEach(function (s, i) {
        datasets.push({
          label: s.name,
          data: s.points.map(function (p) { return { x: p[0], y: p[1] }; }),
          borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
          showLine: true
        });
      });
      return new window.Chart(canvas, {
        type: "scatter",
        data: { datasets: datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { title: { display: true, text: spec.title }, legend: { position: "bottom" } },
          scales: { x: percentAxis(""), y: percentAxis("") }
        }
      });
    },
    auc: function (canvas, spec) {
      var datasets = [{
        label: "AUC", data: spec.values, borderColor: COLOURS[0], backgroundColor: COLOURS[0],
        spanGaps: true
      }];
      if (spec.reference !== null && spec.reference !== undefined) {
        datasets.push({
          label: spec.reference_name, data: spec.labels.map(function () { return spec.reference; }),
          borderColor: "#999", borderDash: [4, 4], pointRadius: 0
        });
      }
      return new window.Chart(canvas, {
        type: "line",
        data: { labels: spec.labels, datasets: datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { title: { display: true, text: spec.title }, legend: { position: "bottom" } },
          scales: { y: { suggestedMin: 0.5, suggestedMax: 1 } }
        }
      });
    }
  };

  function draw() {
    var block = document.getElementById("models-data");
    if (!block || !window.Chart) { return; }
    var charts = JSON.parse(block.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.getAttribute("data-chart");
      if (DRAW[name] && charts[name]) { DRAW[name](canvas, charts[name]); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
