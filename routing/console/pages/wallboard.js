// The live wallboard: one frame a second pushed by the service (server-sent events); a frame
// older than STALE_MS marks the whole board stale, so a frozen wall never looks live.
import { api, el, showError, clearError, signedIn } from "/ui/shell/shell.js";

const STALE_MS = 2500;
const PRESENCE_LABELS = {
  idle: "Idle", ringing: "Ringing", on_call: "On call", wrap_up: "Wrap-up",
  paused: "Paused", unreachable: "Unreachable", logged_out: "Logged out",
};
const SHOWN_PRESENCES = ["idle", "ringing", "on_call", "wrap_up", "paused", "unreachable"];

const wall = new URLSearchParams(location.search).has("wall");
if (wall) document.body.classList.add("wall");
const who = await signedIn(["supervisor", "admin"]);
const mayControl = who.role === "admin" || (who.role === "supervisor" && !who.queues);
const problem = document.getElementById("problem");
const live = document.getElementById("live");
const wallLink = document.getElementById("wall-mode");
wallLink.textContent = wall ? "Desk view" : "Wall screen";
wallLink.href = wall ? location.pathname : "?wall=1";

let lastFrameAt = 0;
let lastFrame = null;

function setLive(state, text) {
  live.className = `live ${state}`;
  live.textContent = text;
  live.dataset.state = state;
}

function watchStaleness() {
  if (!lastFrameAt) return;
  const age = Date.now() - lastFrameAt;
  if (age > STALE_MS) {
    setLive("stale", `stale: last update ${Math.round(age / 1000)} s ago`);
    document.body.classList.add("stale");
  } else {
    setLive("fresh", "live");
    document.body.classList.remove("stale");
  }
}

function kpiText(kpi) {
  return kpi ? kpi.shown : "–";
}

function queueTile(q) {
  const sl = q.service_level;
  const counts = SHOWN_PRESENCES.filter((p) => q.agents[p]).map((p) =>
    el("span", { class: `tag presence-${p}` }, `${PRESENCE_LABELS[p]} ${q.agents[p]}`));
  const tiers = Object.entries(q.tiers).map(([tier, byPresence]) =>
    el("li", {}, `Tier ${tier}: `, SHOWN_PRESENCES.filter((p) => byPresence[p]).map(
      (p) => `${PRESENCE_LABELS[p].toLowerCase()} ${byPresence[p]}`).join(", ") || "nobody in"));
  const longest = q.longest_wait_s === null ? "–" : minutes(q.longest_wait_s);
  return el("article", { class: "queue card" + (q.waiting ? " has-waiting" : ""),
                         dataset: { queue: q.queue_id } },
    el("h2", {}, q.name, " ", el("span", { class: "muted" }, q.queue_id)),
    el("div", { class: "figures" },
      figure("Waiting", String(q.waiting), "waiting", q.ringing ? `${q.ringing} ringing` : ""),
      figure("Longest wait", longest, "longest", "in this queue now"),
      figure(sl ? sl.label : "Service level", kpiText(sl), "sl", sl ? sl.formula + " · today" : "today"),
      figure("Answered", String(q.answered_today), "answered", "today"),
      figure("Abandoned", String(q.abandoned_today), "abandoned", "today")),
    el("div", { class: "presences" }, counts.length ? counts : el("span", { class: "muted" }, "no agents logged in")),
    el("ul", { class: "tiers" }, tiers));
}

// m:ss, read from across a room (tenths are noise on a wall)
function minutes(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function figure(label, value, key, note) {
  return el("div", { class: `figure ${key}` },
    el("span", { class: "label" }, label),
    el("span", { class: "value", dataset: { figure: key } }, value),
    el("span", { class: "note" }, note));
}

function agentRow(a) {
  const controls = mayControl ? controlsFor(a) : el("span", { class: "muted" }, "–");
  return el("tr", { dataset: { agent: a.agent_id, presence: a.presence } },
    el("td", {}, a.name, " ", el("span", { class: "muted" }, a.agent_id)),
    el("td", { class: "num" }, String(a.tier)),
    el("td", {}, el("span", { class: `tag presence-${a.presence}` }, PRESENCE_LABELS[a.presence])),
    el("td", { class: "reason" }, a.pause_reason || ""),
    el("td", { class: "call" }, a.call_id || ""),
    el("td", { class: "num in-presence", dataset: { since: String(Date.now() - a.in_presence_s * 1000) } },
      minutes(a.in_presence_s)),
    el("td", { class: "num" }, String(a.calls_today)),
    el("td", { class: "control" }, controls));
}

function controlsFor(a) {
  const listen = a.presence === "on_call" && a.call_id && !monitor
    ? el("button", { type: "button", class: "secondary", onclick: () => startMonitor(a) }, "Listen") : null;
  if (a.presence === "logged_out") {
    return el("button", { type: "button", class: "secondary", onclick: () => command(a, "login") }, "Log in");
  }
  const reason = el("input", { name: "reason", placeholder: "reason", "aria-label": `reason for ${a.agent_id}`, size: "10" });
  const paused = a.presence === "paused";
  return el("span", { class: "agent-controls" },
    listen,
    paused ? null : reason,
    paused ? el("button", { type: "button", class: "secondary", onclick: () => command(a, "resume") }, "Resume")
      : el("button", { type: "button", class: "secondary", onclick: () => command(a, "pause", reason.value) }, "Pause"),
    el("button", { type: "button", class: "secondary", onclick: () => command(a, "logout", reason.value) }, "Log out"));
}

async function command(agent, action, reason) {
  clearError(problem);
  const body = reason && reason.trim() ? { reason: reason.trim() } : (action === "pause" ? { reason: "" } : undefined);
  try {
    await api("POST", `/v1/routing/agents/${encodeURIComponent(agent.agent_id)}/${action}`, body);
  } catch (error) {
    showError(problem, error);
  }
}

// Live monitoring: listen, whisper or barge from the supervisor's phone (audited by the API).
let monitor = null;
const phone = document.getElementById("monitor-phone");
phone.value = localStorage.getItem("hotline.monitor-phone") || "";
phone.addEventListener("change", () => localStorage.setItem("hotline.monitor-phone", phone.value.trim()));

function showMonitor() {
  const box = document.getElementById("monitoring");
  box.hidden = !monitor;
  if (!monitor) return;
  document.getElementById("monitor-what").textContent =
    `${monitor.mode} on ${monitor.agent_id}'s call ${monitor.call_id}`;
  const state = document.getElementById("monitor-state");
  state.textContent = monitor.state;
  state.dataset.state = monitor.state;
  for (const button of box.querySelectorAll("button[data-mode]")) {
    button.disabled = button.dataset.mode === monitor.mode;
  }
}

async function startMonitor(agent) {
  clearError(problem);
  const body = { mode: "listen" };
  if (phone.value.trim()) body.endpoint = phone.value.trim();
  try {
    monitor = await api("POST", `/v1/calls/${encodeURIComponent(agent.call_id)}/monitor`, body);
  } catch (error) {
    showError(problem, error);
    return;
  }
  showMonitor();
  forceRender();
}

async function monitorCall(method, body) {
  clearError(problem);
  try {
    const path = `/v1/calls/${encodeURIComponent(monitor.call_id)}/monitor/${monitor.monitor_id}`;
    const changed = await api(method, path, body);
    monitor = changed.state === "ended" ? null : changed;
  } catch (error) {
    showError(problem, error);
    if (error.status === 404 || error.status === 409) monitor = null;
  }
  showMonitor();
  forceRender();
}

for (const button of document.querySelectorAll("#monitoring button[data-mode]")) {
  button.addEventListener("click", () => monitorCall("PATCH", { mode: button.dataset.mode }));
}
document.getElementById("monitor-stop").addEventListener("click", () => monitorCall("DELETE"));

// The monitor ends with the call: a frame where its agent no longer talks to it ends it here.
function followMonitor(frame) {
  if (!monitor) return;
  const agent = frame.agents.find((a) => a.agent_id === monitor.agent_id);
  if (!agent || agent.call_id !== monitor.call_id) {
    monitor = null;
    showMonitor();
  }
}

function forceRender() {
  for (const row of document.querySelectorAll("#agents tbody tr")) row.dataset.key = "";
  if (lastFrame) render(lastFrame);
}

// Agent rows are rebuilt only when something but the time changed, so a half-typed pause
// reason survives the next frame.
function agentKey(a) {
  return JSON.stringify([a.name, a.tier, a.presence, a.pause_reason, a.call_id, a.calls_today]);
}

function render(frame) {
  document.getElementById("queues").replaceChildren(...(frame.queues.length
    ? frame.queues.map(queueTile) : [el("p", { class: "empty" }, "No queue is yours to watch.")]));
  const body = document.querySelector("#agents tbody");
  const existing = new Map([...body.children].map((row) => [row.dataset.agent, row]));
  const rows = frame.agents.map((a) => {
    const old = existing.get(a.agent_id);
    // kept as it is while unchanged, or while someone types a reason in it
    if (old && (old.dataset.key === agentKey(a) || old.contains(document.activeElement))) return old;
    const row = agentRow(a);
    row.dataset.key = agentKey(a);
    return row;
  });
  body.replaceChildren(...rows);
  const note = document.getElementById("today-note");
  note.textContent = frame.today.as_of
    ? `today's figures as of ${new Date(frame.today.as_of).toLocaleTimeString()}` : "today's figures: counting…";
}

function tick() {
  for (const cell of document.querySelectorAll("#agents td.in-presence")) {
    cell.textContent = minutes((Date.now() - Number(cell.dataset.since)) / 1000);
  }
  watchStaleness();
}

const stream = new EventSource("/v1/wallboard/stream");
stream.addEventListener("board", (message) => {
  lastFrame = JSON.parse(message.data);
  lastFrameAt = Date.now();
  document.body.dataset.seq = String(lastFrame.seq);
  followMonitor(lastFrame);
  render(lastFrame);
  watchStaleness();
});
stream.addEventListener("error", () => {
  if (!lastFrameAt) setLive("stale", "no connection: retrying…");
});
setInterval(tick, 500);
