// The KPI chart: one bar per row of the table, redrawn when htmx swaps the report in.
"use strict";

(function () {
  let chart = null;
  function draw() {
    const source = document.getElementById("chart-data");
    const canvas = document.getElementById("chart");
    if (chart) { chart.destroy(); chart = null; }
    if (!source || !canvas || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent).chart;
    if (!data) return;
    chart = new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: "#0b6a9e" }] },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: true } }, scales: { y: { beginAtZero: true } } },
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
