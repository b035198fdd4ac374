// Draws each panel's Vega-Lite chart. The specs sit in the page as JSON data blocks
// (not scripts, so the CSP's script-src 'self' holds), and Vega evaluates expressions
// with its interpreter instead of new Function (no 'unsafe-eval').
(function () {
  "use strict";
  var charts = document.querySelectorAll(".stats-chart");
  var pending = charts.length;
  function done() {
    pending -= 1;
    if (pending <= 0) document.body.setAttribute("data-charts", "drawn");
  }
  if (!pending) done();
  charts.forEach(function (element) {
    var spec = JSON.parse(document.getElementById(element.dataset.spec).textContent);
    vegaEmbed(element, spec, {
      renderer: "svg",
      actions: false,
      defaultStyle: false,
      tooltip: false,
      ast: true,
      expr: window.vegaExpressionInterpreter,
    })
      .then(function () {
        element.setAttribute("data-drawn", "yes");
      })
      .catch(function (error) {
        element.setAttribute("data-drawn", "failed");
        element.textContent = String(error);
      })
      .finally(done);
  });
})();
