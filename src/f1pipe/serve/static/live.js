// The live page: the server's timing state over Server-Sent Events, drawn into the DOM.
"use strict";
(function () {
  window.__latencies = [];  // ms from "update published to Kafka" to "DOM updated"
  window.__samples = [];  // [when (epoch ms), latency ms]
  window.__renders = 0;
  function text(id, value) { document.getElementById(id).textContent = value === null || value === undefined ? "–" : value; }
  function lapTime(ms) {
    if (ms === null || ms === undefined) return "";
    var m = Math.floor(ms / 60000), s = (ms % 60000) / 1000;
    return m ? m + ":" + (s < 10 ? "0" : "") + s.toFixed(3) : s.toFixed(3);
  }
  function cell(row, value, cls) {
    var td = document.createElement("td"); td.textContent = value === null || value === undefined ? "" : value;
    if (cls) td.className = cls; row.appendChild(td);
  }
  function render(state) {
    if (!state.session) return;
    var s = state.session;
    text("session-name", s.season + " round " + s.round + " " + s.session + (s.name ? " · " + s.name : ""));
    text("lap", state.lap); text("total-laps", state.total_laps);
    text("track-status", state.track_status); text("session-status", state.session_status);
    text("updates", state.updates);
    var body = document.querySelector("#tower tbody");
    var rows = document.createDocumentFragment();
    state.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.driver = r.abbreviation || r.driver_number;
      if (r.status === "retired") tr.className = "out";
      cell(tr, r.position, "pos"); cell(tr, r.abbreviation || r.driver_number, "driver");
      cell(tr, r.position === 1 ? "LAP " + (state.lap || "") : r.gap_to_leader, "num");
      cell(tr, r.interval_ahead, "num"); cell(tr, lapTime(r.last_lap_ms), "num");
      cell(tr, lapTime(r.best_lap_ms), "num");
      cell(tr, (r.compound || "") + (r.tyre_age_laps !== null ? " (" + r.tyre_age_laps + ")" : ""));
      cell(tr, r.pit_stops, "num"); cell(tr, r.status);
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    var leader = state.rows.find(function (r) { return r.position === 1; });
    text("leader", leader ? (leader.abbreviation || leader.driver_number) : null);
    var list = document.getElementById("race-control");
    var items = document.createDocumentFragment();
    state.race_control.forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = (m.lap ? "lap " + m.lap + " · " : "") + (m.message || "");
      items.appendChild(li);
    });
    list.replaceChildren(items);
    window.__renders += 1;
    if (state.produced_at) {
      var now = Date.now(), latency = now - Date.parse(state.produced_at);
      window.__latencies.push(latency);
      window.__samples.push([now, latency]);
    }
  }
  var source = new EventSource("/live/events");
  source.addEventListener("state", function (event) { render(JSON.parse(event.data)); });
})();
