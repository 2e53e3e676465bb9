// The listen audit for auditors: what players played (GET /v1/audit/plays) and what was served
// (GET /v1/audit/listens), newest first.
import { api, clock, el, queryOf, showError, signedIn, when } from "/ui/shell/shell.js";

await signedIn(["auditor", "admin"]);
const form = document.getElementById("filter");
const rows = document.querySelector("#listens tbody");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
await load();

async function load() {
  const query = queryOf(form);
  query.set("limit", "500");
  try {
    const plays = await api("GET", "/v1/audit/plays?" + query.toString());
    document.querySelector("#plays tbody").replaceChildren(...(plays.length ? plays.map((p) => el("tr", {},
      el("td", {}, when(p.at)), el("td", {}, p.actor), el("td", {}, p.role),
      el("td", {}, el("code", {}, p.recording_id)),
      el("td", { class: "num seconds" }, `${clock(p.start_s)} – ${clock(p.end_s)}`),
      el("td", {}, p.remote || "–")))
      : [el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No player has reported a stretch played yet."))]));
    const found = await api("GET", "/v1/audit/listens?" + query.toString());
    rows.replaceChildren(...(found.length ? found.map((l) => el("tr", {},
      el("td", {}, when(l.at)), el("td", {}, l.actor), el("td", {}, l.role),
      el("td", {}, el("code", {}, l.recording_id)), el("td", { class: "num" }, l.status),
      el("td", { class: "num" }, l.byte_start === null ? "–" : `${l.byte_start}–${l.byte_end} of ${l.size_bytes}`),
      el("td", { class: "num seconds" }, l.start_s === null ? "–" : `${clock(l.start_s)} – ${clock(l.end_s)}`),
      el("td", {}, l.remote || "–")))
      : [el("tr", {}, el("td", { colspan: 8, class: "empty" }, "Nobody has listened yet."))]));
  } catch (error) {
    showError(document.getElementById("problem"), error);
  }
}
