// What every page's script shares: calling the API as the signed-in user, showing its
// problems next to the fields, and a Leaflet map with the organisation's tiles.
"use strict";

window.ff = (function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function pageData() {
    const element = document.getElementById("page-data");
    return element ? JSON.parse(element.textContent) : {};
  }

  // fetch() with the session cookie; changes carry the CSRF token. An ended session goes
  // to the sign-in page, and back here afterwards.
  async function api(method, path, body, options) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf();
    let payload;
    if (body instanceof FormData || typeof body === "string") {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, Object.assign({ method, headers, body: payload, credentials: "same-origin" }, options || {}));
    if (response.status === 401) {
      window.location.assign("/login?expired=1&next=" + encodeURIComponent(window.location.pathname + window.location.search));
      return { ok: false, status: 401, body: {} };
    }
    const text = await response.text();
    let parsed = {};
    try { parsed = text ? JSON.parse(text) : {}; } catch (e) { parsed = { detail: text }; }
    return { ok: response.ok, status: response.status, body: parsed };
  }

  // The API's problem in words: its detail, its code, and each field's message.
  function problemText(problem) {
    if (!problem) return "Something went wrong.";
    const parts = [problem.detail || problem.title || "Something went wrong."];
    if (problem.code) parts.push("(" + problem.code + ")");
    return parts.join(" ");
  }

  // Put each field's error under the field named like it (body.name -> [name="name"]).
  function showProblem(form, problem) {
    form.querySelectorAll(".field-error").forEach((e) => e.remove());
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    let placed = 0;
    const errors = (problem && problem.errors) || [];
    const fields = (problem && problem.fields) || {};
    const named = errors.map((e) => [String(e.field || "").replace(/^body\./, "").split(".")[0], e.message])
      .concat(Object.entries(fields));
    for (const [name, message] of named) {
      const input = form.querySelector('[name="' + name + '"]');
      if (!input) continue;
      const note = document.createElement("p");
      note.className = "field-error";
      note.id = "error-" + name;
      note.textContent = message + (problem.code ? " (" + problem.code + ")" : "");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
      input.insertAdjacentElement("afterend", note);
      placed += 1;
    }
    const summary = form.querySelector(".form-message");
    if (summary) {
      summary.textContent = placed ? "Please correct the field marked below." : problemText(problem);
      summary.className = "form-message error";
    }
  }

  function say(form, text, good) {
    const summary = form.querySelector(".form-message");
    if (summary) {
      summary.textContent = text;
      summary.className = "form-message " + (good ? "good" : "error");
    }
  }

  // A form whose fields become an API call's JSON body: data-api="METHOD /path".
  // data-type on an input: number, list (comma separated), bool, json; empty inputs are left out.
  function formBody(form) {
    const body = {};
    for (const input of form.querySelectorAll("[name]")) {
      if (input.name === "csrf_token" || input.disabled) continue;
      const type = input.dataset.type || "text";
      if (type === "list-select") {
        const chosen = Array.from(input.selectedOptions).map((o) => o.value);
        if (chosen.length) body[input.name] = chosen;
        continue;
      }
      if (input.type === "checkbox") { body[input.name] = input.checked; continue; }
      const value = input.value.trim();
      if (value === "") {
        if (input.dataset.keepEmpty) body[input.name] = "";  // empty means something here (no map tiles)
        continue;
      }
      if (type === "number") body[input.name] = Number(value);
      else if (type === "json") { try { body[input.name] = JSON.parse(value); } catch (e) { body[input.name] = value; } }
      else if (type === "list") body[input.name] = value.split(",").map((v) => v.trim()).filter(Boolean);
      else body[input.name] = value;
    }
    return body;
  }

  function bindApiForms(root, onDone) {
    for (const form of (root || document).querySelectorAll("form[data-api]")) {
      if (form.dataset.bound) continue;
      form.dataset.bound = "1";
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const [method, path] = form.dataset.api.split(" ");
        const button = form.querySelector("button[type=submit]");
        if (button) button.disabled = true;
        say(form, "Saving…", true);
        const body = formBody(form);
        const result = await api(method, path, method === "DELETE" ? undefined : body);
        if (button) button.disabled = false;
        if (!result.ok) { showProblem(form, result.body); return; }
        form.querySelectorAll(".field-error").forEach((e) => e.remove());
        say(form, form.dataset.done || "Saved.", true);
        if (onDone) onDone(form, result.body);
        else if (form.dataset.reload) window.location.reload();
      });
    }
  }

  // A Leaflet map with the organisation's tiles and attribution; no tiles (an empty URL)
  // leaves a plain background the vectors are drawn on.
  function map(element, options) {
    const config = document.getElementById("map-config");
    const view = L.map(element, Object.assign({ zoomControl: true, maxZoom: 19, minZoom: 3 }, options || {}));
    const url = config ? config.dataset.tileUrl : "";
    if (url) {
      L.tileLayer(url, { attribution: config.dataset.tileAttribution, maxZoom: 19, subdomains: "abc" }).addTo(view);
    } else {
      view.attributionControl.addAttribution("Drawn map (no tile source)");
    }
    view.setView([46.6, 2.4], 6);
    return view;
  }

  function ageWords(iso) {
    if (!iso) return "–";
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return Math.round(seconds) + " s ago";
    if (seconds < 3600) return Math.round(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.round(seconds / 3600) + " h ago";
    return Math.round(seconds / 86400) + " days ago";
  }

  function timeOf(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "–";
  }

  const TIER_COLOURS = { A: "#0b6a9e", B: "#3f7d4f", C: "#6b6b6b" };

  document.addEventListener("DOMContentLoaded", () => bindApiForms(document));
  return { api, pageData, problemText, showProblem, say, formBody, bindApiForms, map, ageWords, timeOf, TIER_COLOURS, csrf };
})();
