// Charts of the season and race pages, drawn with plotly.js from the page's JSON data.
"use strict";
var F1Charts = (function () {
  var DARK = {paper_bgcolor: "#15151e", plot_bgcolor: "#15151e", font: {color: "#ddd"},
              margin: {l: 60, r: 20, t: 20, b: 45}, legend: {orientation: "v"}};
  var CONFIG = {displaylogo: false, responsive: true};
  // Pirelli's colours: since 2019 soft red, medium yellow, hard white; until 2018 each
  // compound had its own.
  var COMPOUNDS = {SOFT: "#e10600", MEDIUM: "#f5d000", HARD: "#f0f0f0", INTERMEDIATE: "#43b02a",
                   WET: "#0067ad"};
  var COMPOUNDS_2018 = {HYPERSOFT: "#feb1c1", ULTRASOFT: "#b24ba7", SUPERSOFT: "#e10600",
                        SOFT: "#f5d000", MEDIUM: "#f0f0f0", HARD: "#4fc3f7", SUPERHARD: "#ff8c00",
                        INTERMEDIATE: "#43b02a", WET: "#0067ad"};

  function layout(extra) { return Object.assign({}, DARK, extra); }
  function colour(data, driver) { return (data.colours && data.colours[driver]) || "#888"; }

  function season(data) {
    var charts = data.charts || data;
    var traces = charts.progression.map(function (d) {
      return {x: charts.round_names, y: d.points, name: d.driver, mode: "lines+markers", type: "scatter"};
    });
    Plotly.newPlot("progression-chart", traces,
      layout({yaxis: {title: {text: "points"}}, xaxis: {type: "category"}}), CONFIG);
  }

  function race(data) {
    if (document.getElementById("lap-chart")) {
      var lapTraces = data.lap_chart.map(function (d) {
        return {x: d.laps, y: d.positions, name: d.driver, mode: "lines", type: "scatter",
                line: {color: colour(data, d.driver), width: 2}};
      });
      // positions 1..N, top to bottom, without plotly's padding past the last car
      var cars = Math.max.apply(null, [1].concat(data.lap_chart.map(function (d) {
        return Math.max.apply(null, d.positions.filter(function (p) { return p !== null; }).concat([1]));
      })));
      Plotly.newPlot("lap-chart", lapTraces, layout({
        yaxis: {range: [cars + 0.5, 0.5], title: {text: "position"}, dtick: 1},
        xaxis: {title: {text: "lap (0 = grid)"}}}), CONFIG);

      var palette = data.season <= 2018 ? COMPOUNDS_2018 : COMPOUNDS;
      var named = {};  // one legend entry per compound: the colours alone are not enough
      var stintTraces = data.stints.map(function (s) {
        var compound = s.compound || "unknown";
        var first = !named[compound];
        named[compound] = true;
        return {type: "bar", orientation: "h", y: [s.abbreviation || String(s.driver_number)],
                x: [s.lap_end - s.lap_start + 1], base: [s.lap_start - 1],
                marker: {color: palette[s.compound] || "#888", line: {color: "#15151e", width: 1}},
                name: compound, legendgroup: compound, showlegend: first,
                hovertemplate: (s.compound || "?") + " laps " + s.lap_start + "-" + s.lap_end + "<extra></extra>"};
      });
      Plotly.newPlot("strategy-chart", stintTraces, layout({barmode: "overlay",
        yaxis: {categoryorder: "array", categoryarray: data.drivers.slice().reverse()},
        xaxis: {title: {text: "lap"}}}), CONFIG);

      var byDriver = {};
      data.gaps.forEach(function (g) {
        var name = g.abbreviation || String(g.driver_number);
        (byDriver[name] = byDriver[name] || {x: [], y: []});
        byDriver[name].x.push(g.lap_number); byDriver[name].y.push(g.gap_to_leader_ms / 1000);
      });
      var gapTraces = data.drivers.filter(function (d) { return byDriver[d]; }).map(function (d) {
        return {x: byDriver[d].x, y: byDriver[d].y, name: d, mode: "lines", type: "scatter",
                line: {color: colour(data, d)}};
      });
      Plotly.newPlot("gap-chart", gapTraces, layout({
        yaxis: {title: {text: "gap to leader (s)"}, autorange: "reversed"},
        xaxis: {title: {text: "lap"}}}), CONFIG);

      var boxTraces = data.lap_times.map(function (d) {
        return {y: d.seconds, name: d.driver, type: "box", boxpoints: "outliers",
                marker: {color: colour(data, d.driver)}};
      });
      Plotly.newPlot("laptime-chart", boxTraces, layout({showlegend: false,
        yaxis: {title: {text: "lap time (s)"}}}), CONFIG);
    }
    if (document.getElementById("race-control-chart") && data.race_control.length) {
      var rc = data.race_control.filter(function (m) { return m.lap !== null; });
      Plotly.newPlot("race-control-chart", [{
        x: rc.map(function (m) { return m.lap; }), y: rc.map(function (m) { return m.category; }),
        text: rc.map(function (m) { return m.message; }), mode: "markers", type: "scatter",
        marker: {size: 10, color: rc.map(function (m) { return m.flag === "RED" ? "#e10600" :
          (m.flag === "YELLOW" || m.flag === "DOUBLE YELLOW") ? "#f5d000" : "#7fb3ff"; })},
        hovertemplate: "lap %{x}: %{text}<extra></extra>"}],
        layout({xaxis: {title: {text: "lap"}}, height: 260}), CONFIG);
    }
  }

  return {season: season, race: race};
})();
