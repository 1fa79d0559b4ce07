// A rep's day: the planned route (stops in order) against the GPS track, with a time
// slider that moves a marker along the track.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const data = ff.pageData();
  const view = ff.map(document.getElementById("map"));
  const bounds = [];
  const planned = [];
  for (const visit of data.visits) {
    const spot = visit.customer && visit.customer.location;
    if (!spot) continue;
    const done = visit.status === "completed";
    L.circleMarker([spot.lat, spot.lon], { radius: 8, color: "#0b6a9e", weight: 2, fillColor: done ? "#0b6a9e" : "#fff", fillOpacity: 1 })
      .bindTooltip(visit.customer.name + " · " + visit.status.replace("_", " "))
      .addTo(view);
    if (visit.planned_start) planned.push([spot.lat, spot.lon]);
    bounds.push([spot.lat, spot.lon]);
  }
  if (planned.length > 1) L.polyline(planned, { color: "#0b6a9e", weight: 4, opacity: 0.7, dashArray: "8 6" }).addTo(view);

  const query = "?start=" + encodeURIComponent(data.track_start) + "&end=" + encodeURIComponent(data.track_end);
  const track = await ff.api("GET", "/api/v1/tracking/users/" + data.rep.id + "/track" + query);
  const slider = document.getElementById("moment");
  const label = document.getElementById("moment-label");
  const summary = document.getElementById("track-summary");
  if (track.ok && track.body.points.length) {
    const points = track.body.points;
    const line = points.map((p) => [p.lat, p.lon]);
    L.polyline(line, { color: "#b06a00", weight: 3 }).addTo(view);
    bounds.push(...line);
    const here = L.circleMarker(line[0], { radius: 7, color: "#fff", weight: 2, fillColor: "#b06a00", fillOpacity: 1 }).addTo(view);
    slider.max = String(points.length - 1);
    slider.disabled = false;
    const move = () => {
      const point = points[Number(slider.value)];
      here.setLatLng([point.lat, point.lon]);
      label.textContent = ff.timeOf(point.time);
    };
    slider.addEventListener("input", move);
    move();
    summary.textContent = (track.body.distance_m / 1000).toFixed(1) + " km driven · " + track.body.points_recorded +
      " fixes · " + track.body.stops.length + " stops of 5 minutes or more";
  } else {
    summary.textContent = track.ok ? "No GPS track this day (outside the working day, positions stay private)." : ff.problemText(track.body);
  }
  if (bounds.length) view.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
});
