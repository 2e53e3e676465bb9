// Routing rules in the browser: every change goes through the routing API's dry run first
// (its validation and plan linter, problems shown at their fields), then its difference against
// what is in force, then Apply with If-Match on the version it was checked against.
import { ApiProblem, api, clearError, el, showError, signedIn } from "/ui/shell/shell.js";
import { diffLines, jsonLines } from "/ui/supervisor/diff.js";

const API = "/v1/routing";
await signedIn(["supervisor", "admin"]);
const problem = document.getElementById("problem");
const stagedBox = document.getElementById("staged");
let config = null;
let version = 0;
let staged = null;

async function load() {
  const found = await api("GET", `${API}/config`);
  config = found.config;
  version = found.version;
  document.getElementById("version").textContent = String(version);
  renderQueues();
  renderAgents();
  renderSkills();
  renderVips();
  await renderHistory();
}

// --- staging: check, show, apply --------------------------------------------------------

function clearFieldProblems() {
  for (const node of document.querySelectorAll(".field-problem")) node.remove();
  for (const node of document.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    node.classList.remove("invalid");
  }
}

// The input a problem's field names, or the closest one above it (body.skills for
// body.skills[0].proficiency).
function inputFor(root, field) {
  let best = null;
  for (const input of root.querySelectorAll("[data-field]")) {
    const name = input.dataset.field;
    const fits = field === name || field.startsWith(name + ".") || field.startsWith(name + "[");
    if (fits && (!best || name.length > best.dataset.field.length)) best = input;
  }
  return best;
}

function markProblems(root, problems) {
  for (const p of problems) {
    const input = root && inputFor(root, p.field);
    if (!input) continue;
    input.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    input.after(el("span", { class: "field-problem", role: "alert", dataset: { field: p.field } }, p.message));
  }
}

async function stage({ what, method, path, body, before, after, root }) {
  clearError(problem);
  clearFieldProblems();
  document.getElementById("applied").textContent = "";
  staged = null;
  stagedBox.hidden = false;
  document.getElementById("staged-what").textContent = what;
  const apply = document.getElementById("apply");
  apply.disabled = true;
  document.getElementById("diff").replaceChildren();
  document.getElementById("warnings").replaceChildren();
  const problemsBox = document.getElementById("staged-problems");
  clearError(problemsBox);
  try {
    const checked = await api(method, `${API}${path}?dry_run=true`, body,
      { headers: { "If-Match": `"${version}"` } });
    const result = after === undefined ? checked.resource : await after();
    renderDiff(before, method === "DELETE" ? null : result);
    renderWarnings(checked.warnings);
    staged = { what, method, path, body, checkedVersion: checked.version };
    apply.disabled = false;
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    showError(problemsBox, error);
    markProblems(root, error.problems);
  }
}

const CONTEXT = 3; // unchanged lines kept around each change; longer runs are folded

function renderDiff(before, after) {
  const lines = diffLines(jsonLines(before), jsonLines(after));
  const near = lines.map((_, i) => lines.slice(Math.max(0, i - CONTEXT), i + CONTEXT + 1)
    .some((l) => l.kind !== "same"));
  const shown = [];
  for (let i = 0; i < lines.length; i++) {
    if (near[i]) {
      const l = lines[i];
      shown.push(el("span", { class: `line ${l.kind}` }, `${{ same: " ", add: "+", del: "−" }[l.kind]} ${l.text}\n`));
      continue;
    }
    let j = i;
    while (j < lines.length && !near[j]) j++;
    shown.push(el("span", { class: "line fold" }, `  … ${j - i} unchanged line${j - i === 1 ? "" : "s"}\n`));
    i = j - 1;
  }
  const changed = lines.some((l) => l.kind !== "same");
  document.getElementById("diff").replaceChildren(...(changed ? shown
    : [el("span", { class: "line same" }, "no difference: this is what is in force\n")]));
}

// Today's changes by their time, older ones by their date too.
function stamp(iso) {
  const d = new Date(iso);
  const today = d.toDateString() === new Date().toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

function renderWarnings(warnings) {
  const box = document.getElementById("warnings");
  box.replaceChildren(...(warnings.length ? [el("div", { class: "notice" },
    el("strong", {}, "The plan linter warns:"),
    el("ul", {}, ...warnings.map((w) => el("li", {}, el("code", {}, w.field), " ", w.message))))] : []));
}

document.getElementById("apply").addEventListener("click", async () => {
  if (!staged) return;
  const { what, method, path, body, checkedVersion } = staged;
  try {
    const done = await api(method, `${API}${path}`, body,
      { headers: { "If-Match": `"${checkedVersion}"` } });
    staged = null;
    stagedBox.hidden = true;
    document.getElementById("applied").textContent =
      `Applied: ${what}. Version ${done.version} is in force.`;
    await load();
  } catch (error) {
    if (error instanceof ApiProblem && error.code === "version_conflict") {
      error.message = "Someone changed the rules since this was checked: check it again.";
    }
    showError(document.getElementById("staged-problems"), error);
  }
});

document.getElementById("discard").addEventListener("click", () => {
  staged = null;
  stagedBox.hidden = true;
  clearFieldProblems();
});

// --- a queue's plan ------------------------------------------------------------------------

const planQueue = document.getElementById("plan-queue");
const planBody = document.querySelector("#plan-steps tbody");

function renderQueues() {
  const chosen = planQueue.value || (config.queues[0] && config.queues[0].queue_id);
  planQueue.replaceChildren(...config.queues.map((q) =>
    el("option", { value: q.queue_id, selected: q.queue_id === chosen }, `${q.name} (${q.queue_id})`)));
  renderPlan();
}

function currentQueue() {
  return config.queues.find((q) => q.queue_id === planQueue.value);
}

function renderPlan(steps) {
  const queue = currentQueue();
  const shown = steps || (queue ? queue.plan : []);
  planBody.replaceChildren(...shown.map((step, i) => stepRow(step, i)));
}

function stepRow(step, i) {
  const f = (key) => `body[${i}].${key}`;
  const remove = el("button", { type: "button", class: "link", onclick: () => {
    const steps = readPlan();
    steps.splice(i, 1);
    renderPlan(steps);
  } }, "remove");
  // what the row does not edit (skills, agents, skip_if_empty) rides along with it
  return el("tr", { dataset: { step: String(i), kept: JSON.stringify(step) } },
    el("td", {}, el("input", { name: "name", value: step.name, "data-field": f("name"), "aria-label": `step ${i + 1} name` })),
    el("td", { class: "num" }, el("input", { name: "after_s", value: String(step.after_s), size: "5", "data-field": f("after_s"), "aria-label": `step ${i + 1} opens after` })),
    el("td", {}, el("input", { name: "tiers", value: (step.tiers || []).join(", "), size: "6", placeholder: "any", "data-field": f("tiers"), "aria-label": `step ${i + 1} tiers` })),
    el("td", { class: "num" }, el("input", { name: "priority_delta", value: String(step.priority_delta || 0), size: "3", "data-field": f("priority_delta"), "aria-label": `step ${i + 1} priority` })),
    el("td", {}, el("input", { name: "overflow_to", value: step.overflow_to || "", size: "8", placeholder: "–", "data-field": f("overflow_to"), "aria-label": `step ${i + 1} overflow` })),
    el("td", {}, remove));
}

// A number where one was typed, else the text as typed: the API names what is wrong with it.
function number(text) {
  const trimmed = text.trim();
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function readPlan() {
  return [...planBody.children].map((row) => {
    const value = (name) => row.querySelector(`[name="${name}"]`).value;
    const kept = JSON.parse(row.dataset.kept);
    const tiers = value("tiers").trim();
    return {
      ...kept,
      name: value("name"),
      after_s: number(value("after_s")),
      tiers: tiers ? tiers.split(",").map(number) : [],
      priority_delta: number(value("priority_delta") || "0"),
      overflow_to: value("overflow_to").trim() || null,
    };
  });
}

planQueue.addEventListener("change", () => renderPlan());
document.getElementById("add-step").addEventListener("click", () => {
  const steps = readPlan();
  const last = steps[steps.length - 1];
  steps.push({ name: `step ${steps.length + 1}`, after_s: last ? Number(last.after_s) + 30 : 0, tiers: [] });
  renderPlan(steps);
});
document.getElementById("check-plan").addEventListener("click", () => {
  const queue = currentQueue();
  stage({
    what: `the plan of ${queue.name}`, method: "PUT", path: `/queues/${encodeURIComponent(queue.queue_id)}/plan`,
    body: readPlan(), before: { queue_id: queue.queue_id, plan: queue.plan },
    root: document.getElementById("plan-editor"),
  });
});

// --- agents ----------------------------------------------------------------------------------

function renderAgents() {
  document.querySelector("#agent-rows tbody").replaceChildren(...config.agents.map((agent) => {
    const tier = el("input", { name: "tier", value: String(agent.tier), size: "2", "data-field": "body.tier", "aria-label": `${agent.agent_id} tier` });
    const skills = el("input", { name: "skills", size: "28", "data-field": "body.skills", "aria-label": `${agent.agent_id} skills`,
      value: agent.skills.map((s) => `${s.skill_id}:${s.proficiency}`).join(", ") });
    const row = el("tr", { dataset: { agent: agent.agent_id } },
      el("td", {}, agent.name, " ", el("span", { class: "muted" }, agent.agent_id)),
      el("td", { class: "num" }, tier), el("td", {}, skills));
    row.append(el("td", {}, el("button", { type: "button", class: "secondary", onclick: () => stage({
      what: `agent ${agent.agent_id}`, method: "PATCH", path: `/agents/${encodeURIComponent(agent.agent_id)}`,
      body: { tier: number(tier.value), skills: parseSkills(skills.value) }, before: agent, root: row,
    }) }, "Check")));
    return row;
  }));
}

function parseSkills(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const [id, level] = s.split(":").map((part) => part.trim());
    return level === undefined ? { skill_id: id } : { skill_id: id, proficiency: number(level) };
  });
}

// --- skills and VIPs -------------------------------------------------------------------------

function renderSkills() {
  document.getElementById("skill-list").replaceChildren(...config.skills.map((skill) => el("li", {},
    `${skill.name} `, el("code", {}, skill.skill_id), " ",
    el("button", { type: "button", class: "link", onclick: () => stage({
      what: `removing skill ${skill.skill_id}`, method: "DELETE", path: `/skills/${encodeURIComponent(skill.skill_id)}`,
      before: skill, root: document.getElementById("skills-editor"),
    }) }, "remove"))));
}

document.getElementById("add-skill").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { skill_id: form.skill_id.value.trim(), name: form.name.value.trim() };
  stage({ what: `new skill ${body.skill_id}`, method: "POST", path: "/skills", body, before: null, root: form });
});

function renderVips() {
  document.getElementById("vip-list").replaceChildren(...config.vips.map((vip) => el("li", {},
    el("code", {}, vip.caller_number), ` priority ${vip.priority}`,
    vip.dedicated_agent ? `, ${vip.dedicated_agent} alone for ${vip.dedicated_wait_s} s` : "", " ",
    el("button", { type: "button", class: "link", onclick: () => stage({
      what: `removing VIP ${vip.caller_number}`, method: "DELETE", path: `/vips/${encodeURIComponent(vip.caller_number)}`,
      before: vip, root: document.getElementById("vips-editor"),
    }) }, "remove"))));
}

document.getElementById("add-vip").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { caller_number: form.caller_number.value.trim(), priority: number(form.priority.value) };
  if (form.dedicated_agent.value.trim()) body.dedicated_agent = form.dedicated_agent.value.trim();
  if (form.dedicated_wait_s.value.trim()) body.dedicated_wait_s = number(form.dedicated_wait_s.value);
  stage({ what: `new VIP ${body.caller_number}`, method: "POST", path: "/vips", body, before: null, root: form });
});

// --- versions and audit ----------------------------------------------------------------------

async function renderHistory() {
  const [versions, audit] = await Promise.all([
    api("GET", `${API}/versions?limit=20`), api("GET", `${API}/audit?limit=15`)]);
  document.querySelector("#versions tbody").replaceChildren(...versions.items.map((v) => el("tr", { dataset: { version: String(v.version) } },
    el("td", { class: "num" }, String(v.version)), el("td", {}, stamp(v.created_at)),
    el("td", {}, v.created_by), el("td", {}, v.comment || ""),
    el("td", {}, v.version === version ? el("span", { class: "tag good" }, "in force")
      : el("button", { type: "button", class: "secondary restore", onclick: () => stageRestore(v.version) }, "Restore")))));
  document.querySelector("#audit tbody").replaceChildren(...audit.items.map((a) => el("tr", {},
    el("td", {}, stamp(a.at)), el("td", {}, `${a.actor} (${a.role})`), el("td", {}, a.action),
    el("td", {}, el("code", {}, a.path)), el("td", { class: "num" }, a.version === null ? "" : String(a.version)))));
}

function stageRestore(number) {
  stage({
    what: `restoring version ${number}`, method: "POST", path: `/versions/${number}/restore`,
    body: { comment: `restored from the console to version ${number}` }, before: config,
    after: async () => (await api("GET", `${API}/versions/${number}`)).config,
  });
}

await load();
