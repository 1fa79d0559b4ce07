"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const data = ff.pageData().customer;
  const view = ff.map(document.getElementById("map"));
  if (data && data.location) {
    L.circleMarker([data.location.lat, data.location.lon], { radius: 9, color: "#fff", weight: 2, fillColor: "#0b6a9e", fillOpacity: 1 })
      .bindTooltip(data.name).addTo(view);
    view.setView([data.location.lat, data.location.lon], 15);
  }
});
