// The customers listed, on a map: pins by tier, clustered where they crowd.
"use strict";

(function () {
  let view = null;
  let layer = null;
  function draw() {
    const source = document.getElementById("customers-data");
    if (!source) return;
    const customers = JSON.parse(source.textContent).customers || [];
    if (!view) view = ff.map(document.getElementById("map"));
    if (layer) view.removeLayer(layer);
    layer = L.markerClusterGroup({ showCoverageOnHover: false });
    const bounds = [];
    for (const c of customers) {
      const where = [c.location.lat, c.location.lon];
      const pin = L.circleMarker(where, { radius: 7, weight: 1, color: "#fff", fillColor: ff.TIER_COLOURS[c.tier] || "#666", fillOpacity: 1 });
      pin.bindTooltip(c.name + " (tier " + c.tier + ")");
      pin.on("click", () => window.location.assign("/customers/" + c.id));
      layer.addLayer(pin);
      bounds.push(where);
    }
    view.addLayer(layer);
    if (bounds.length) view.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
