// What-if for supervisors: edit a queue's plan (starting from the plan in force), replay the
// last hours' calls through the routing engine with both plans (POST /v1/reports/whatif), and
// compare predicted service level, ASA and abandonment as numbers and per-interval charts.
// Problems come back from the API by field (body.proposed.queues.claims.plan[1].after_s) and
// are shown beside the input they name.
import { api, clearError, el, showError, signedIn, svg, when } from "/ui/shell/shell.js";

const STEP_FIELD = /^body\.proposed\.queues\.[^.[]+\.plan(?:\[(\d+)\](?:\.([a-z_]+))?)?/;
const EXTRAS = ["skills", "agents", "overflow_to", "skip_if_empty"];

const who = await signedIn(["supervisor", "admin"]);
const form = document.getElementById("whatif");
const hours = document.getElementById("hours");
const queue = document.getElementById("queue");
const plan = document.querySelector("#plan tbody");
const problem = document.getElementById("problem");
const status = document.getElementById("status");
const runButton = document.getElementById("run");
const extras = new WeakMap(); // row -> the step's fields this editor does not show
let inForce = [];

document.getElementById("add-step").addEventListener("click", () => {
  const last = Number(stepsOf().at(-1)?.after_s);
  addRow({ name: `step ${plan.querySelectorAll("tr.step").length + 1}`, after_s: Number.isFinite(last) ? last + 30 : 0 });
});
document.getElementById("reset-plan").addEventListener("click", () => showPlan(inForce));
queue.addEventListener("change", () => loadPlan());
form.addEventListener("submit", run);

await start();

async function start() {
  const asked = new URLSearchParams(location.search);
  if (asked.get("hours")) hours.value = asked.get("hours");
  try {
    const { items } = await api("GET", "/v1/routing/queues");
    const mine = items.filter((q) => !who.queues || who.queues.includes(q.queue_id));
    queue.replaceChildren(...mine.map((q) => el("option", { value: q.queue_id }, `${q.name} (${q.queue_id})`)));
    if (asked.get("queue") && mine.some((q) => q.queue_id === asked.get("queue"))) queue.value = asked.get("queue");
    if (!mine.length) {
      showError(problem, new Error("No queue to replay: you see no queue of the routing configuration."));
      runButton.disabled = true;
      return;
    }
    await loadPlan();
  } catch (error) {
    showError(problem, error);
  }
}

async function loadPlan() {
  clearProblems();
  try {
    inForce = await api("GET", `/v1/routing/queues/${encodeURIComponent(queue.value)}/plan`);
    document.getElementById("plan-source").textContent = `(from the plan in force for ${queue.value})`;
    showPlan(inForce);
  } catch (error) {
    showError(problem, error);
  }
}

// ------------------------------------------------------------------ the plan editor

function showPlan(steps) {
  plan.replaceChildren();
  steps.forEach((step) => addRow(step));
  clearProblems();
}

function addRow(step) {
  const row = el("tr", { class: "step" },
    el("td", {}, el("input", { name: "name", value: step.name ?? "", "aria-label": "step name" })),
    el("td", { class: "num" }, el("input", { name: "after_s", type: "number", min: 0, step: "any", value: step.after_s ?? 0, "aria-label": "opens after seconds" })),
    el("td", {}, el("input", { name: "tiers", value: (step.tiers || []).join(", "), placeholder: "any", "aria-label": "tiers, e.g. 1, 2" })),
    el("td", { class: "num" }, el("input", { name: "priority_delta", type: "number", step: 1, value: step.priority_delta ?? 0, "aria-label": "priority added" })),
    el("td", { class: "also muted" }, describe(step)),
    el("td", {}, el("button", { type: "button", class: "link", onclick: () => { row.nextElementSibling?.classList.contains("row-problem") && row.nextElementSibling.remove(); row.remove(); } }, "remove")));
  extras.set(row, Object.fromEntries(EXTRAS.filter((k) => k in step).map((k) => [k, step[k]])));
  plan.append(row);
}

function describe(step) {
  const parts = [];
  if (step.skills && step.skills.length) parts.push("skills " + step.skills.map((s) => `${s.skill_id}≥${s.min_proficiency ?? 1}`).join(", "));
  if (step.agents && step.agents.length) parts.push("only " + step.agents.join(", "));
  if (step.overflow_to) parts.push(`overflow to ${step.overflow_to}`);
  if (step.skip_if_empty) parts.push("skipped when nobody is logged in");
  return parts.join(" · ") || "–";
}

// What was typed, as typed where it is not a number: the API names what is wrong with it.
function number(text) {
  const trimmed = text.trim();
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function stepsOf() {
  return [...plan.querySelectorAll("tr.step")].map((row) => {
    const field = (name) => row.querySelector(`[name=${name}]`).value;
    const tiers = field("tiers").split(/[\s,]+/).filter((t) => t !== "").map(number);
    return { ...extras.get(row), name: field("name").trim(), after_s: number(field("after_s")),
      tiers, priority_delta: field("priority_delta").trim() === "" ? 0 : number(field("priority_delta")) };
  });
}

// ------------------------------------------------------------------ running it

async function run(event) {
  event.preventDefault();
  clearProblems();
  const body = { hours: number(hours.value), queue_id: queue.value, patience: form.elements.patience.value,
    proposed: { queues: { [queue.value]: { plan: stepsOf() } } } };
  if (form.elements.interval.value) body.interval_min = Number(form.elements.interval.value);
  history.replaceState(null, "", `?${new URLSearchParams({ hours: hours.value, queue: queue.value })}`);
  runButton.disabled = true;
  status.textContent = "Replaying…";
  form.dataset.state = "running"; // then "done" or "failed": what a reader (or a test) waits for
  const shown = document.getElementById("result");
  shown.classList.add("stale");
  try {
    const result = await api("POST", "/v1/reports/whatif", body);
    status.textContent = "";
    render(result);
    shown.classList.remove("stale");
    form.dataset.state = "done";
  } catch (error) {
    status.textContent = "";
    shown.hidden = true; // figures of another plan must not pass for this one's
    showProblems(error);
    form.dataset.state = "failed";
  } finally {
    runButton.disabled = false;
  }
}

function clearProblems() {
  clearError(problem);
  form.querySelectorAll(".invalid").forEach((n) => { n.classList.remove("invalid"); n.removeAttribute("aria-invalid"); });
  form.querySelectorAll("tr.row-problem").forEach((n) => n.remove());
  form.querySelectorAll("p.field-problem").forEach((p) => { p.hidden = true; p.replaceChildren(); });
}

function say(field, message) {
  return [el("code", {}, field), " ", message];
}

function rowNote(index, field, message, kind) {
  const row = plan.querySelectorAll("tr.step")[index];
  if (!row) return false;
  let note = row.nextElementSibling;
  if (!note || !note.classList.contains("row-problem")) {
    note = el("tr", { class: "row-problem" }, el("td", { colspan: 6 }));
    row.after(note);
  }
  note.firstChild.append(el("p", { class: kind }, ...say(field, message)));
  return true;
}

function markInput(node, field, message) {
  node.classList.add("invalid");
  node.setAttribute("aria-invalid", "true");
  const box = form.querySelector(`p.field-problem[data-for=${node.id === "queue" ? "queue_id" : node.id}]`);
  if (box) { box.hidden = false; box.append(el("span", {}, ...say(field, message))); }
}

function showProblems(error) {
  showError(problem, error);
  for (const p of error.problems || []) {
    const step = STEP_FIELD.exec(p.field);
    if (step && step[1] !== undefined) {
      const row = plan.querySelectorAll("tr.step")[Number(step[1])];
      const input = row && step[2] && row.querySelector(`[name=${step[2]}]`);
      if (input) { input.classList.add("invalid"); input.setAttribute("aria-invalid", "true"); }
      if (rowNote(Number(step[1]), p.field, p.message, "error")) continue;
    }
    if (step) {
      const box = form.querySelector("p.field-problem[data-for=plan]");
      box.hidden = false;
      box.append(el("span", {}, ...say(p.field, p.message)));
    } else if (p.field === "body.hours") {
      markInput(hours, p.field, p.message);
    } else if (p.field === "body.queue_id") {
      markInput(queue, p.field, p.message);
    }
  }
}

// ------------------------------------------------------------------ the figures

function kpi(row, key) {
  return row.kpis.find((k) => k.key === key);
}

function fill(id, k) {
  const cell = document.getElementById(id);
  cell.textContent = k ? k.shown : "n/a";
  cell.title = k ? `${k.formula} = ${k.numerator} / ${k.denominator}` : "";
  cell.dataset.value = k && k.value !== null ? String(k.value) : "";
  cell.classList.remove("better", "worse");
}

function judge(id, now, then, higherIsBetter) {
  if (!now || !then || now.value === null || then.value === null || now.value === then.value) return;
  const better = higherIsBetter ? then.value > now.value : then.value < now.value;
  document.getElementById(id).classList.add(better ? "better" : "worse");
}

function counts(row) {
  const c = row.counts;
  return `${c.answered} · ${c.abandoned} · ${c.flow_outs}`;
}

function render(result) {
  const keys = result.headline;
  const rows = { current: result.current.total, proposed: result.proposed.total, recorded: result.recorded.total };
  const named = { sl: keys.service_level, asa: keys.asa, abandon: keys.abandonment };
  for (const [short, key] of Object.entries(named)) {
    for (const [plan_, row] of Object.entries(rows)) fill(`${plan_}-${short}`, kpi(row, key));
    const label = kpi(rows.current, key);
    document.getElementById(`${short}-label`).textContent = label.label;
    document.getElementById(`${short}-label`).title = label.formula;
  }
  judge("proposed-sl", kpi(rows.current, named.sl), kpi(rows.proposed, named.sl), true);
  judge("proposed-asa", kpi(rows.current, named.asa), kpi(rows.proposed, named.asa), false);
  judge("proposed-abandon", kpi(rows.current, named.abandon), kpi(rows.proposed, named.abandon), false);
  for (const [plan_, row] of Object.entries(rows)) document.getElementById(`${plan_}-counts`).textContent = counts(row);
  document.getElementById("current-version").textContent = `v${result.current.version}`;
  document.getElementById("result-queue").textContent = result.queue || "every queue";
  const patience = result.settings.assumed_patience_s;
  document.getElementById("window").textContent =
    `${when(result.from)} – ${when(result.to)} · ${result.arrivals} calls replayed · callers never seen to hang up wait ` +
    (patience === null ? "for ever" : `${patience} s`) +
    ` · ${result.staffing.commands} agent commands and ${result.staffing.answers} answers read` +
    (result.proposed.still_waiting ? ` · ${result.proposed.still_waiting} calls never answered with the proposal` : "");
  document.getElementById("warnings").replaceChildren(...result.warnings.map((w) => el("li", { class: "notice" }, ...say(w.field, w.message))));
  for (const w of result.warnings) {
    const step = STEP_FIELD.exec(w.field);
    if (step && step[1] !== undefined) rowNote(Number(step[1]), w.field, w.message, "warning");
  }
  charts(result, named);
  document.getElementById("notes").replaceChildren(...result.notes.map((n) => el("li", {}, n)));
  document.getElementById("result").hidden = false;
}

// ------------------------------------------------------------------ charts (inline SVG)

function charts(result, named) {
  const labels = result.current.intervals.map((r) => r.group);
  const series = (key, scale) => ["current", "proposed", "recorded"].map((name) => ({
    name, values: result[name].intervals.map((r) => {
      const k = kpi(r, key);
      return k && k.value !== null ? k.value * scale : null;
    }),
  }));
  document.getElementById("chart").replaceChildren(
    chart("chart-sl", kpi(result.current.total, named.sl).label, "%", series(named.sl, 100), labels, 100),
    chart("chart-asa", "ASA", "s", series(named.asa, 1), labels, null),
    chart("chart-abandon", kpi(result.current.total, named.abandon).label, "%", series(named.abandon, 100), labels, 100));
}

function niceMax(values) {
  const top = Math.max(1, ...values.filter((v) => v !== null));
  const step = 10 ** Math.floor(Math.log10(top));
  return Math.ceil(top / step) * step;
}

function clockOf(iso) {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function chart(id, title, unit, series, labels, fixedMax) {
  const W = 900, H = 220, L = 52, R = 24, T = 26, B = 34;
  const n = labels.length;
  const top = fixedMax ?? niceMax(series.flatMap((s) => s.values));
  const x = (i) => (n <= 1 ? L + (W - L - R) / 2 : L + (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const root = svg("svg", { id, class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title} per interval` },
    svg("text", { x: L, y: 16, class: "chart-title" }, `${title} (${unit})`));
  for (let k = 0; k <= 4; k += 1) {
    const v = (top * k) / 4;
    root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
      svg("text", { x: L - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  const every = Math.max(1, Math.ceil(n / 12));
  labels.forEach((label, i) => {
    if (i % every === 0) root.append(svg("text", { x: x(i), y: H - 12, class: "tick", "text-anchor": "middle" }, clockOf(label)));
  });
  for (const s of series) {
    let run_ = [];
    const flush = () => {
      if (run_.length > 1) root.append(svg("polyline", { class: `line ${s.name}`, points: run_.map(([i, v]) => `${x(i)},${y(v)}`).join(" ") }));
      run_ = [];
    };
    s.values.forEach((v, i) => {
      if (v === null) { flush(); return; }
      run_.push([i, v]);
      root.append(svg("circle", { class: `dot ${s.name}`, cx: x(i), cy: y(v), r: 3.5 },
        svg("title", {}, `${s.name}, ${clockOf(labels[i])}: ${v.toFixed(1)} ${unit}`)));
    });
    flush();
  }
  if (series.every((s) => s.values.every((v) => v === null))) {
    root.append(svg("text", { x: W / 2, y: H / 2, class: "empty-chart", "text-anchor": "middle" }, "n/a: no call counted"));
  }
  return root;
}
