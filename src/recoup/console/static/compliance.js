// The compliance pages' chart: blocks and deferrals per period and rule, from the JSON block the
// page renders (#held-data). Without Chart.js (or without JavaScript) the table says the same.
"use strict";

(function () {
  function compliance() {
    var data = document.getElementById("held-data");
    var canvas = document.getElementById("held-chart");
    if (!data || !canvas || typeof window.Chart === "undefined") {
      if (canvas) { canvas.parentNode.hidden = true; }
      return;
    }
    var parsed = JSON.parse(data.textContent);
    var palette = ["#0b5fad", "#b3261e", "#1e7b3a", "#8a5a00", "#6a3fa0", "#00838f", "#5b6573"];
    var datasets = Object.keys(parsed.series).map(function (rule, i) {
      return {
        label: rule,
        data: parsed.series[rule],
        backgroundColor: palette[i % palette.length],
        stack: "held",
        maxBarThickness: 48
      };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: parsed.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", compliance);
  } else {
    compliance();
  }
})();
