// Draws each panel's Vega-Lite chart. The specs sit in the page as JSON data blocks
// (not scripts, so the CSP's script-src 'self' holds), and Vega evaluates expressions
// with its interpreter instead of new Function (no 'unsafe-eval').
(function () {
  "use strict";
  // Swedish numbers and dates on a Swedish page (d3's sv-SE): 1 234,5 and "okt",
  // not 1,234.5 and "Oct". English pages keep Vega's defaults.
  var SWEDISH = document.documentElement.lang === "sv" && {
    formatLocale: {
      decimal: ",",
      thousands: "\u00a0",
      grouping: [3],
      currency: ["", "\u00a0kr"],
      percent: "\u00a0%",
    },
    timeFormatLocale: {
      dateTime: "%A den %d %B %Y %X",
      date: "%Y-%m-%d",
      time: "%H:%M:%S",
      periods: ["fm", "em"],
      days: ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
      shortDays: ["sön", "mån", "tis", "ons", "tor", "fre", "lör"],
      months: [
        "januari", "februari", "mars", "april", "maj", "juni",
        "juli", "augusti", "september", "oktober", "november", "december",
      ],
      shortMonths: [
        "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
      ],
    },
  };
  var charts = document.querySelectorAll(".stats-chart");
  var pending = charts.length;
  function done() {
    pending -= 1;
    if (pending <= 0) document.body.setAttribute("data-charts", "drawn");
  }
  if (!pending) done();
  charts.forEach(function (element) {
    var spec = JSON.parse(document.getElementById(element.dataset.spec).textContent);
    vegaEmbed(element, spec, Object.assign({
      renderer: "svg",
      actions: false,
      defaultStyle: false,
      tooltip: false,
      ast: true,
      expr: window.vegaExpressionInterpreter,
    }, SWEDISH || {}))
      .then(function () {
        // The drawn SVG is one image named by the panel's heading (axe: svg-img-alt);
        // the numbers are in the panel's table and exports.
        var svg = element.querySelector("svg");
        var heading = element.closest(".stats-panel").querySelector("h2");
        if (svg && heading) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", heading.textContent.trim());
        }
        element.setAttribute("data-drawn", "yes");
      })
      .catch(function (error) {
        element.setAttribute("data-drawn", "failed");
        element.textContent = String(error);
      })
      .finally(done);
  });
})();
