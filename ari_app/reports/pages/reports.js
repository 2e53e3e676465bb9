// KPI reports: the API's figures per group with each KPI's label and formula as the API names
// them, a bar chart of one KPI across the groups, and the same query as CSV.
import { api, clearError, el, showError, signedIn, svg } from "/ui/shell/shell.js";

const COUNTS = [["answered", "A"], ["answered_within", "A≤T"], ["abandoned", "Ab"],
  ["abandoned_within", "Ab≤T"], ["short_abandoned", "Ab≤S"], ["flow_outs", "F"]];

await signedIn(["supervisor", "admin"]);
const form = document.getElementById("report-form");
const problem = document.getElementById("problem");
let last = null;

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// The form as the API's query: local times sent with their offset (as UTC).
function query() {
  const params = new URLSearchParams();
  for (const [key, raw] of new FormData(form)) {
    const value = String(raw).trim();
    if (!value) continue;
    params.set(key, key === "from" || key === "to" ? new Date(value).toISOString() : value);
  }
  return params;
}

function start() {
  const asked = new URLSearchParams(location.search);
  const now = new Date();
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  form.from.value = asked.get("from") ? localInput(new Date(asked.get("from"))) : localInput(midnight);
  form.to.value = asked.get("to") ? localInput(new Date(asked.get("to"))) : localInput(new Date(now.getTime() + 60_000));
  for (const key of ["by", "queue", "sl_s", "short_s", "fcr_days"]) {
    if (asked.has(key)) form[key].value = asked.get(key);
  }
  if (!asked.has("by")) form.by.value = "queue";
}

async function show(event) {
  if (event) event.preventDefault();
  clearError(problem);
  const params = query();
  history.replaceState(null, "", `?${params}`);
  const csv = new URLSearchParams(params);
  csv.set("format", "csv");
  document.getElementById("csv").href = `/v1/reports/kpis?${csv}`;
  try {
    last = await api("GET", `/v1/reports/kpis?${params}`);
  } catch (error) {
    document.getElementById("result").hidden = true;
    showError(problem, error);
    return;
  }
  render(last);
}

function kpiCell(k, group) {
  return el("td", { class: "num", dataset: { kpi: k.key, group }, title: `${k.formula} = ${k.numerator} / ${k.denominator}` }, k.shown);
}

function dispositionsOf(row) {
  const found = Object.entries(row.dispositions || {});
  return el("td", { class: "dispositions", dataset: { group: row.group } }, ...(found.length
    ? found.map(([code, n]) => el("span", { class: "tag", dataset: { code } }, `${code} ${n}`))
    : [el("span", { class: "muted" }, "–")]));
}

function groupName(group) {
  if (/^\d{4}-\d\d-\d\dT/.test(group)) return new Date(group).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
  return group;
}

function render(report) {
  document.getElementById("result").hidden = false;
  const th = report.settings;
  document.getElementById("rule").textContent =
    `T = ${th.service_level_s} s, S = ${th.short_abandon_s} s, N = ${th.fcr_days} days. Interval rule: ${report.interval_rule}.`;
  // One row per figure (its label and formula first), one column per group, then the total:
  // seventeen KPIs read down a page, not across it.
  const groups = [...report.rows, report.total];
  const table = document.getElementById("report");
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, "KPI (formula)"),
    ...groups.map((g) => el("th", { class: "num", dataset: { group: g.group } }, g === report.total ? "total" : groupName(g.group)))));
  const counted = [
    el("tr", {}, el("th", { scope: "row" }, "Calls"), ...groups.map((g) => el("td", { class: "num", dataset: { group: g.group } }, String(g.calls)))),
    ...COUNTS.map(([key, label]) => el("tr", { class: "count" }, el("th", { scope: "row" }, label),
      ...groups.map((g) => el("td", { class: "num", dataset: { group: g.group, count: key } }, String(g.counts[key]))))),
  ];
  const kpis = report.total.kpis.map((k, i) => el("tr", { dataset: { kpi: k.key } },
    el("th", { scope: "row", dataset: { kpi: k.key } }, k.label, el("span", { class: "formula" }, k.formula)),
    ...groups.map((g) => kpiCell(g.kpis[i], g.group))));
  table.tBodies[0].replaceChildren(...counted, ...kpis,
    el("tr", {}, el("th", { scope: "row" }, "Dispositions"), ...groups.map(dispositionsOf)));
  document.getElementById("notes").replaceChildren(...report.notes.map((n) => el("li", {}, n)));
  const picker = document.getElementById("chart-kpi");
  const chosen = picker.value || "sl_excl_short";
  picker.replaceChildren(...report.total.kpis.map((k) => el("option", { value: k.key, selected: k.key === chosen }, k.label)));
  drawChart(report, picker.value);
}

// One bar per group and one for the total; percentages on a 0–100 scale, others from 0 up.
function drawChart(report, key) {
  const groups = [...report.rows, report.total];
  const kpis = groups.map((g) => g.kpis.find((k) => k.key === key));
  const unit = kpis[kpis.length - 1].unit;
  const values = kpis.map((k) => (k.value === null ? null : unit === "percent" ? k.value * 100 : k.value));
  const top = unit === "percent" ? 100 : Math.max(1, ...values.filter((v) => v !== null)) * 1.1;
  const W = 900, H = 280, L = 48, B = 44, T = 16;
  const slot = (W - L) / groups.length;
  const y = (v) => H - B - (v / top) * (H - B - T);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${kpis[0].label} by ${report.by || "range"}` });
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const v = top * tick;
    root.append(svg("line", { class: "grid", x1: L, x2: W, y1: y(v), y2: y(v) }),
      svg("text", { class: "tick", x: L - 6, y: y(v) + 4, "text-anchor": "end" }, unit === "percent" ? `${v.toFixed(0)} %` : v.toFixed(1)));
  }
  groups.forEach((g, i) => {
    const x = L + i * slot + slot * 0.15;
    const v = values[i];
    const label = i === groups.length - 1 ? "total" : groupName(g.group);
    root.append(svg("text", { class: "tick", x: x + slot * 0.35, y: H - B + 16, "text-anchor": "middle" }, label));
    if (v === null) {
      root.append(svg("text", { class: "value", x: x + slot * 0.35, y: H - B - 6, "text-anchor": "middle" }, "n/a"));
      return;
    }
    root.append(svg("rect", { class: i === groups.length - 1 ? "bar total" : "bar", x, y: y(v), width: slot * 0.7, height: Math.max(0, H - B - y(v)) },
      svg("title", {}, `${label}: ${kpis[i].shown}`)),
    svg("text", { class: "value", x: x + slot * 0.35, y: y(v) - 4, "text-anchor": "middle" }, kpis[i].shown));
  });
  document.getElementById("chart").replaceChildren(root);
}

document.getElementById("chart-kpi").addEventListener("change", (event) => {
  if (last) drawChart(last, event.target.value);
});
form.addEventListener("submit", show);
start();
await show();
