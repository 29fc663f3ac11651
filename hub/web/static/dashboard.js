/* The dashboard's charts: the figures and their titles are JSON blocks in the page, drawn by
   the plotly.js the hub serves itself (no inline script, so the CSP needs no exception). */
(function () {
  "use strict";

  function json(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var figures = json("dashboard-figures");
    var titles = json("dashboard-titles");
    Object.keys(figures).forEach(function (name) {
      var fig = figures[name];
      fig.layout.title = {text: titles[name] || name};
      Plotly.newPlot("chart-" + name, fig.data, fig.layout, {displaylogo: false, responsive: true});
    });
  });
})();
