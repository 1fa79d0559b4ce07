// Territories: polygons on the map, drawn and edited in the browser (leaflet-geoman), a
// GeoJSON import whose rejected features are listed and outlined in red, coverage by
// tier for the selected one, and the workload balancing proposal with apply.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = ff.pageData();
  const view = ff.map(document.getElementById("map"));
  const repNames = Object.fromEntries(data.reps.map((r) => [r.id, r.name]));
  const layers = {};
  const group = L.featureGroup().addTo(view);
  const problemsLayer = L.featureGroup().addTo(view);
  const selected = document.getElementById("selected");

  function escape(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML;
  }

  function add(territory) {
    const layer = L.geoJSON(territory.geometry, { style: { color: territory.color, weight: 2, fillOpacity: 0.12 } });
    layer.eachLayer((shape) => {
      shape.territory = territory;
      shape.bindTooltip(territory.name, { sticky: true });
      shape.on("click", () => {
        if (!(view.pm && view.pm.globalDrawModeEnabled())) select(territory);  // a click while drawing adds a corner
      });
      shape.on("pm:edit", () => saveShape(territory, shape));
      group.addLayer(shape);
    });
    layers[territory.id] = layer;
  }

  async function select(territory) {
    const reps = (territory.rep_ids || []).map((id) => repNames[id] || "a rep you do not manage").join(", ") || "none";
    selected.innerHTML = "<h2>" + escape(territory.name) + "</h2><p>Reps: " + escape(reps) + "</p><p class='muted'>Loading coverage…</p>";
    selected.dataset.territoryId = territory.id;
    const coverage = await ff.api("GET", "/api/v1/territories/" + territory.id + "/coverage");
    if (!coverage.ok) { selected.querySelector(".muted").textContent = ff.problemText(coverage.body); return; }
    const c = coverage.body;
    const rows = ["A", "B", "C"].map((tier) =>
      "<tr><th scope='row'>" + tier + "</th><td>" + (c.customers[tier] || 0) + "</td><td>" + (c.visits_due[tier] || 0) +
      "</td><td>" + (c.customers_visited[tier] || 0) + "</td></tr>").join("");
    const total = Object.values(c.customers).reduce((a, b) => a + b, 0);
    selected.innerHTML = "<h2>" + escape(territory.name) + "</h2><p>Reps: " + escape(reps) + "</p>" +
      "<p id='territory-customers'>" + total + " customers in this territory</p>" +
      "<table><caption>Coverage, " + escape(c.period.start.slice(0, 10)) + " to " + escape(c.period.end.slice(0, 10)) + "</caption>" +
      "<thead><tr><th scope='col'>Tier</th><th scope='col'>Customers</th><th scope='col'>Visits due</th><th scope='col'>Visited</th></tr></thead>" +
      "<tbody>" + rows + "</tbody></table>";
  }

  async function saveShape(territory, shape) {
    const result = await ff.api("PATCH", "/api/v1/territories/" + territory.id, { geometry: shape.toGeoJSON().geometry });
    if (!result.ok) { alertBox(ff.problemText(result.body)); return; }
    Object.assign(territory, result.body);
    select(territory);
  }

  function alertBox(text) {
    selected.innerHTML = "<p class='error' role='alert'>" + escape(text) + "</p>";
  }

  data.territories.forEach(add);
  window.ffTerritories = { map: view };  // for the browser tests
  if (group.getLayers().length) view.fitBounds(group.getBounds(), { padding: [20, 20] });

  if (!data.can_edit) return;
  // Drawing: the polygon tool and the edit tool only.
  view.pm.addControls({
    position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawRectangle: false,
    drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false, dragMode: false, removalMode: false,
  });
  // geoman's buttons are links without text: name them after their tooltip for screen readers.
  for (const button of document.querySelectorAll(".leaflet-pm-toolbar .leaflet-buttons-control-button")) {
    const holder = button.closest("[title]");
    if (holder) button.setAttribute("aria-label", holder.title);
  }
  const form = document.getElementById("new-territory");
  let drawn = null;
  view.on("pm:create", (event) => {
    if (drawn) view.removeLayer(drawn);
    drawn = event.layer;
    form.hidden = false;
    form.querySelector("#territory-name").focus();
  });
  document.getElementById("discard").addEventListener("click", () => {
    if (drawn) view.removeLayer(drawn);
    drawn = null;
    form.hidden = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!drawn) return;
    const body = ff.formBody(form);
    body.geometry = drawn.toGeoJSON().geometry;
    const result = await ff.api("POST", "/api/v1/territories", body);
    if (!result.ok) { ff.showProblem(form, result.body); return; }
    view.removeLayer(drawn);
    drawn = null;
    form.hidden = true;
    form.reset();
    add(result.body);
    await select(result.body);
  });

  // Import: the API checks every feature first; one bad feature imports nothing.
  const importForm = document.getElementById("import");
  const problems = document.getElementById("import-problems");
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    problems.innerHTML = "";
    problemsLayer.clearLayers();
    const file = importForm.querySelector("#geojson-file").files[0];
    if (!file) return;
    let collection;
    try { collection = JSON.parse(await file.text()); } catch (e) { ff.say(importForm, "This file is not JSON: " + e.message, false); return; }
    const result = await ff.api("POST", "/api/v1/territories/import", collection);
    if (result.ok) {
      ff.say(importForm, result.body.created.length + " territories imported.", true);
      window.setTimeout(() => window.location.reload(), 800);
      return;
    }
    ff.say(importForm, ff.problemText(result.body), false);
    const features = (collection && collection.features) || [];
    for (const error of result.body.errors || []) {
      const feature = features[error.index] || {};
      const name = (feature.properties && feature.properties.name) || "(no name)";
      const item = document.createElement("li");
      item.textContent = "Feature " + (error.index + 1) + ", " + name + ": " + error.code + ", " + error.detail;
      problems.appendChild(item);
      try {
        L.geoJSON(feature, { style: { color: "#c01818", weight: 3, dashArray: "6 4", fillOpacity: 0.05 } })
          .bindTooltip("Feature " + (error.index + 1) + ": " + error.code).addTo(problemsLayer);
      } catch (e) { /* a geometry Leaflet cannot draw either: listed only */ }
    }
    if (problemsLayer.getLayers().length) view.fitBounds(problemsLayer.getBounds(), { padding: [30, 30] });
  });

  // Balancing: a proposal with each rep's workload before and after, then apply.
  const balance = document.getElementById("balance");
  const proposal = document.getElementById("proposal");
  balance.addEventListener("submit", async (event) => {
    event.preventDefault();
    ff.say(balance, "Computing a proposal (up to 10 s)…", true);
    const result = await ff.api("POST", "/api/v1/territories/balance", {});
    if (!result.ok) { ff.say(balance, ff.problemText(result.body), false); return; }
    const p = result.body;
    ff.say(balance, p.moves.length + " customers to move; " + (p.within_tolerance ? "workloads within tolerance" : "still outside tolerance") + ".", true);
    const rows = p.reps.map((r) => "<tr><th scope='row'>" + escape(repNames[r.rep_id] || r.rep_id) + "</th><td>" + r.workload_before_h.toFixed(1) +
      "</td><td>" + r.workload_after_h.toFixed(1) + "</td><td>" + r.customers_before + " → " + r.customers_after + "</td></tr>").join("");
    proposal.innerHTML = "<table><caption>Monthly workload (hours), mean " + p.mean_workload_h.toFixed(1) + "</caption><thead><tr><th scope='col'>Rep</th>" +
      "<th scope='col'>Before</th><th scope='col'>After</th><th scope='col'>Customers</th></tr></thead><tbody>" + rows + "</tbody></table>" +
      (p.moves.length ? "<button type='button' id='apply'>Apply the " + p.moves.length + " moves</button>" : "");
    const apply = document.getElementById("apply");
    if (apply) apply.addEventListener("click", async () => {
      const moves = p.moves.map((m) => ({ customer_id: m.customer_id, to_territory_id: m.to_territory_id, row_version: m.row_version }));
      const applied = await ff.api("POST", "/api/v1/territories/balance/apply", { moves });
      ff.say(balance, applied.ok ? "Applied." : ff.problemText(applied.body), applied.ok);
      if (applied.ok) apply.remove();
    });
  });
});
