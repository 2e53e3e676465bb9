// Recording search: the filters are the query of GET /v1/recordings, kept in the page's address
// (a search can be bookmarked or sent to a colleague); sorting by column, paging by 25.
import { api, clearError, clock, el, queryOf, showError, signedIn, when } from "/ui/shell/shell.js";

const PAGE = 25;
const form = document.getElementById("filters");
const rows = document.querySelector("#results tbody");
const problem = document.getElementById("problem");
const count = document.getElementById("count");
let state = { sort: "started_at", order: "desc", offset: 0 };

await signedIn(["qa", "supervisor", "admin"]);
fillFrom(new URLSearchParams(location.search));
await search();

form.addEventListener("submit", (event) => {
  event.preventDefault();
  state.offset = 0;
  search();
});
form.addEventListener("reset", () => setTimeout(() => { state.offset = 0; search(); }));
document.querySelectorAll("th[data-sort]").forEach((th) => {
  const button = el("button", { type: "button", class: "link" }, th.textContent);
  th.replaceChildren(button);
  button.addEventListener("click", () => {
    const key = th.dataset.sort;
    state.order = state.sort === key && state.order === "desc" ? "asc" : "desc";
    state.sort = key;
    state.offset = 0;
    search();
  });
});
document.getElementById("previous").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - PAGE);
  search();
});
document.getElementById("next").addEventListener("click", () => {
  state.offset += PAGE;
  search();
});

function fillFrom(params) {
  for (const [key, value] of params) {
    if (key === "sort" || key === "order") state[key] = value;
    else if (key === "offset") state.offset = Number(value) || 0;
    else if (form.elements[key]) {
      form.elements[key].value = ["from", "to"].includes(key) ? toLocalInput(value) : value;
    }
  }
}

// The API wants instants with a zone; the date inputs give the reader's local wall time.
function toInstant(local) {
  return new Date(local).toISOString();
}
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

async function search() {
  const query = queryOf(form);
  for (const key of ["from", "to"]) {
    if (query.has(key)) query.set(key, toInstant(query.get(key)));
  }
  query.set("sort", state.sort);
  query.set("order", state.order);
  query.set("limit", PAGE);
  query.set("offset", state.offset);
  history.replaceState(null, "", "?" + query.toString());
  markSort();
  try {
    const found = await api("GET", "/v1/recordings?" + query.toString());
    clearError(problem);
    render(found);
  } catch (error) {
    showError(problem, error);
    rows.replaceChildren();
    count.textContent = "";
  }
}

function markSort() {
  document.querySelectorAll("th[data-sort]").forEach((th) => {
    if (th.dataset.sort === state.sort) {
      th.setAttribute("aria-sort", state.order === "asc" ? "ascending" : "descending");
    } else th.removeAttribute("aria-sort");
  });
}

function render(found) {
  const first = found.total ? found.offset + 1 : 0;
  const last = found.offset + found.items.length;
  count.textContent = `${found.total} recording${found.total === 1 ? "" : "s"}`;
  document.getElementById("page").textContent = found.total ? `${first}–${last} of ${found.total}` : "";
  document.getElementById("previous").disabled = found.offset === 0;
  document.getElementById("next").disabled = last >= found.total;
  if (!found.items.length) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 9, class: "empty" },
      "No recording matches these filters.")));
    return;
  }
  rows.replaceChildren(...found.items.map((r) => el("tr", { dataset: { recordingId: r.recording_id } },
    el("td", {}, el("a", { href: `/qa/recordings/${encodeURIComponent(r.recording_id)}` }, when(r.started_at))),
    el("td", {}, r.agent_id),
    el("td", {}, r.queue_id),
    el("td", {}, r.caller_number || "–"),
    el("td", { class: "num" }, clock(r.duration_s)),
    el("td", { class: "num" }, r.survey_score ?? "–"),
    el("td", {}, r.outcome || "–"),
    el("td", {}, ...(r.intents || []).map((i) => el("span", { class: "tag" }, i))),
    el("td", {},
      r.transferred ? el("span", { class: "tag" }, "transferred") : null,
      r.muted ? el("span", { class: "tag bad" }, "PCI muted") : null))));
}
