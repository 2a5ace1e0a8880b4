// The dashboard's charts, drawn by Chart.js (served by the console, no network) from the page's
// <script type="application/json" id="dashboard-data"> block. Without JavaScript, or without the
// library, the tables under each chart carry the same figures.
"use strict";

(function () {
  var COLOURS = ["#0b5fad", "#1e7b3a", "#b3261e", "#8a5a00", "#6a3d9a", "#00838f", "#c2185b",
    "#5d4037", "#455a64", "#ef6c00", "#2e7d32", "#283593"];

  function percentAxis(on) {
    return on ? { ticks: { callback: function (v) { return Math.round(v * 1000) / 10 + "%"; } } } : {};
  }

  function options(spec, stacked) {
    var y = percentAxis(spec.percent);
    if (stacked) { y.stacked = true; }
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { title: { display: true, text: spec.title }, legend: { position: "bottom" } },
      scales: { x: { stacked: !!stacked }, y: y }
    };
  }

  var DRAW = {
    cure: function (canvas, spec) {
      return new window.Chart(canvas, {
        type: "bar",
        data: { labels: spec.labels, datasets: [{ label: spec.title, data: spec.values, backgroundColor: COLOURS[0] }] },
        options: options(spec, false)
      });
    },
    contacts: function (canvas, spec) {
      return new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return { label: s.name, data: s.values, backgroundColor: COLOURS[i % COLOURS.length] };
          })
        },
        options: options(spec, true)
      });
    },
    curves: function (canvas, spec) {
      return new window.Chart(canvas, {
        type: "line",
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return { label: s.name, data: s.values, borderColor: COLOURS[i % COLOURS.length],
              backgroundColor: COLOURS[i % COLOURS.length], pointRadius: 0, tension: 0.2 };
          })
        },
        options: options(spec, false)
      });
    }
  };

  function dashboard() {
    var block = document.getElementById("dashboard-data");
    if (!block || !window.Chart) { return; }
    var charts = JSON.parse(block.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.getAttribute("data-chart");
      if (DRAW[name] && charts[name]) { DRAW[name](canvas, charts[name]); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", dashboard);
  } else {
    dashboard();
  }
})();
