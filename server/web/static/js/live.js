// The live map: last positions, then each new fix from the live stream (server-sent
// events) within a second; status by the age of the data; today's routes; territories.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const data = ff.pageData();
  const view = ff.map(document.getElementById("map"));
  const names = Object.fromEntries(data.reps.map((r) => [r.id, r.name]));
  const markers = {};
  const last = {};
  const bounds = [];

  const STATUS = {
    moving: { words: "moving", colour: "#1f7a3a" },
    stopped: { words: "stopped", colour: "#b06a00" },
    silent: { words: "silent", colour: "#8a1c1c" },
  };

  function statusOf(fix) {
    const age = (Date.now() - Date.parse(fix.time)) / 1000;
    if (age > 30 * 60) return "silent";
    if (age < 5 * 60 && (fix.speed_mps || 0) >= 1) return "moving";
    return "stopped";
  }

  function show(fix) {
    last[fix.user_id] = fix;
    const status = statusOf(fix);
    const style = STATUS[status];
    const where = [fix.lat, fix.lon];
    let marker = markers[fix.user_id];
    if (!marker) {
      marker = L.circleMarker(where, { radius: 9, weight: 2, color: "#fff", fillOpacity: 0.95 }).addTo(view);
      marker.bindTooltip(names[fix.user_id] || "rep", { permanent: true, direction: "right", offset: [8, 0] });
      markers[fix.user_id] = marker;
    }
    marker.setLatLng(where);
    marker.setStyle({ fillColor: style.colour });
    const row = document.querySelector('tr[data-rep-id="' + fix.user_id + '"]');
    if (row) {
      row.dataset.lat = fix.lat;
      row.dataset.lon = fix.lon;
      row.dataset.time = fix.time;
      const cell = row.querySelector(".status");
      cell.dataset.status = status;
      cell.textContent = style.words;
      row.querySelector(".age").textContent = ff.ageWords(fix.time);
      row.querySelector(".battery").textContent = fix.battery_pct == null ? "–" : Math.round(fix.battery_pct) + " %";
    }
  }

  // Territory outlines.
  const territories = await ff.api("GET", "/api/v1/territories/export");
  let outlines = null;
  if (territories.ok) {
    outlines = L.geoJSON(territories.body, {
      style: (feature) => ({ color: feature.properties.color || "#3388ff", weight: 2, fill: false, interactive: false }),
    }).addTo(view);
  }
  // Today's planned routes and their visit pins.
  for (const plan of data.plans || []) {
    const points = [];
    plan.stops.forEach((stop, index) => {
      const spot = stop.customer && stop.customer.location;
      if (!spot) return;
      points.push([spot.lat, spot.lon]);
      const done = stop.visit && stop.visit.status === "completed";
      L.circleMarker([spot.lat, spot.lon], { radius: 6, color: "#0b6a9e", weight: 2, fillColor: done ? "#0b6a9e" : "#fff", fillOpacity: 1 })
        .bindTooltip((index + 1) + ". " + stop.customer.name + (done ? " (done)" : ""))
        .addTo(view);
    });
    if (points.length > 1) L.polyline(points, { color: "#0b6a9e", weight: 3, opacity: 0.6, interactive: false }).addTo(view);
    bounds.push(...points);
  }
  const positions = await ff.api("GET", "/api/v1/tracking/last");
  if (positions.ok) {
    for (const fix of positions.body.items) {
      if (!names[fix.user_id]) continue;
      show(fix);
      bounds.push([fix.lat, fix.lon]);
    }
  }
  if (bounds.length) view.fitBounds(bounds, { padding: [40, 40], maxZoom: 15 });
  else if (outlines && outlines.getLayers().length) view.fitBounds(outlines.getBounds(), { padding: [20, 20] });

  // Live updates. EventSource reconnects by itself; the status line says when it is down.
  const status = document.getElementById("live-status");
  const stream = new EventSource("/api/v1/tracking/live");
  stream.onopen = () => { status.textContent = "Live: positions arrive as the phones send them."; };
  stream.onerror = () => { status.textContent = "Live updates interrupted; reconnecting…"; };
  stream.addEventListener("position", (event) => {
    const fix = JSON.parse(event.data);
    if (names[fix.user_id]) show(fix);
  });
  // Ages and statuses move on even when nothing arrives.
  setInterval(() => Object.values(last).forEach(show), 15000);
  window.ffLive = { markers, last };  // for the browser tests
});
