// Planning runs on the planning service's API: start one, watch its progress, review its
// days (the review is a server-rendered fragment, loaded with htmx) and publish.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("start-run");
  const box = document.getElementById("run-progress");
  const bar = document.getElementById("progress-bar");
  const words = document.getElementById("progress-words");
  const summary = document.getElementById("run-summary");
  const publish = document.getElementById("publish");
  const cancel = document.getElementById("cancel-run");
  const published = document.getElementById("publish-result");
  const view = ff.map(document.getElementById("map"));
  const routeLayer = L.featureGroup().addTo(view);
  // Before any run is reviewed, the map shows the territories planned for.
  ff.api("GET", "/api/v1/territories/export").then((territories) => {
    if (!territories.ok || !territories.body.features.length) return;
    const outlines = L.geoJSON(territories.body, {
      style: (feature) => ({ color: feature.properties.color || "#3388ff", weight: 2, fill: false, interactive: false }),
    }).addTo(view);
    if (!routeLayer.getLayers().length) view.fitBounds(outlines.getBounds(), { padding: [20, 20] });
  });
  let runId = null;
  let timer = null;

  function drawReview() {
    routeLayer.clearLayers();
    const source = document.getElementById("review-data");
    if (!source) return;
    const stops = (JSON.parse(source.textContent).stops || []).filter((s) => s.customer && s.customer.location);
    const points = stops.map((s) => [s.customer.location.lat, s.customer.location.lon]);
    stops.forEach((s, i) => L.circleMarker(points[i], { radius: 7, color: "#0b6a9e", weight: 2, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip((i + 1) + ". " + s.customer.name).addTo(routeLayer));
    if (points.length > 1) L.polyline(points, { color: "#0b6a9e", weight: 3 }).addTo(routeLayer);
    if (points.length) view.fitBounds(points, { padding: [30, 30], maxZoom: 15 });
  }
  document.addEventListener("htmx:afterSettle", drawReview);
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-pick]")) htmx.trigger(event.target.form, "submit");
  });

  async function follow(id) {
    runId = id;
    box.hidden = false;
    publish.hidden = true;
    cancel.hidden = false;
    published.textContent = "";
    document.getElementById("run-id").textContent = id.slice(0, 8);
    window.clearInterval(timer);
    const poll = async () => {
      const result = await ff.api("GET", "/api/v1/planning/runs/" + id);
      if (!result.ok) { words.textContent = ff.problemText(result.body); window.clearInterval(timer); return; }
      const run = result.body;
      bar.value = Math.round(run.progress.percent);
      words.textContent = run.status + " · " + run.progress.phase + " · " + Math.round(run.progress.percent) + " %";
      if (["succeeded", "failed", "cancelled", "published"].includes(run.status)) {
        window.clearInterval(timer);
        cancel.hidden = true;
        if (run.summary) {
          summary.textContent = run.summary.planned + " of " + run.summary.due + " due visits planned, " +
            run.summary.unassigned + " not fitted, " + (run.summary.distance_m / 1000).toFixed(0) + " km.";
        }
        if (run.error) summary.textContent = "Failed: " + run.error.detail + " (" + run.error.code + ")";
        publish.hidden = run.status !== "succeeded";
        if (run.status === "succeeded" || run.status === "published") {
          htmx.ajax("GET", "/plans/runs/" + id + "/review", { target: "#review", swap: "outerHTML" });
        }
      }
    };
    await poll();
    timer = window.setInterval(poll, 1000);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ff.say(form, "Starting…", true);
    const result = await ff.api("POST", "/api/v1/planning/runs", ff.formBody(form));
    if (!result.ok) { ff.showProblem(form, result.body); return; }
    ff.say(form, "Run started: a worker solves it; progress below.", true);
    follow(result.body.id);
  });
  publish.addEventListener("click", async () => {
    publish.disabled = true;
    const result = await ff.api("POST", "/api/v1/planning/runs/" + runId + "/publish");
    publish.disabled = false;
    if (!result.ok) { published.textContent = ff.problemText(result.body); published.className = "error"; return; }
    publish.hidden = true;
    published.className = "good";
    const days = result.body.days || [];
    published.textContent = "Published" + (days.length ? ": " + days.length + " days." : ".") + " The reps' phones get them at their next sync.";
    const links = document.createElement("ul");
    for (const plan of days.slice(0, 20)) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/reps/" + plan.rep_id + "/day?day=" + plan.date;
      link.textContent = "See the route: " + plan.date;
      link.className = "route-link";
      item.appendChild(link);
      links.appendChild(item);
    }
    published.after(links);
  });
  cancel.addEventListener("click", async () => {
    const result = await ff.api("POST", "/api/v1/planning/runs/" + runId + "/cancel");
    words.textContent = result.ok ? "Cancelled." : ff.problemText(result.body);
  });
  for (const button of document.querySelectorAll("[data-run]")) {
    button.addEventListener("click", () => follow(button.dataset.run));
  }
});
