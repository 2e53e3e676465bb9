// The agent's desk: their own state and its commands; the screen pop of each call offered to
// them (announced on the live event stream, read from the call's handoff); transfer and the PCI
// recording mute while talking; the wrap-up with a disposition afterwards. Everything goes
// through the JSON API, which alone decides what this agent may see and do. When the stream
// drops the page says so (#live), reconnects with backoff and catches up from GET /v1/me/agent.
import { api, clearError, el, showError, signedIn } from "/ui/shell/shell.js";

const who = await signedIn(["agent"]);
const me = who.agent_id;
const $ = (id) => document.getElementById(id);
const problem = $("problem");

const STATUS = { logged_out: "Logged out", available: "Available", paused: "Paused" };
const STATE = { idle: "ready", offered: "ringing", on_call: "on a call", wrap_up: "wrap-up" };
const PHASE_OF_STATE = { offered: "ringing", on_call: "talking", wrap_up: "wrap-up" };
const PHASE_TEXT = {
  ringing: "ringing for you", talking: "talking", transferring: "transferring…",
  "wrap-up": "wrap-up",
};
const PHASES = ["ringing", "talking", "transferring", "wrap-up"]; // a call's screen moves on only
const ANSWER_STATE = {
  played: "answer played", helped: "helped", not_helped: "did not help",
  no_answer: "no answer found", unavailable: "self-service unavailable",
};

let current = null; // the call on screen: {callId, phase, muted}
let codes = new Map(); // disposition code -> label
let wrapupTimer = null;
let refreshTimer = null;

// --- the agent's state -------------------------------------------------------------------

async function refresh() {
  const agent = await api("GET", "/v1/me/agent");
  renderState(agent);
  fillQueues(agent.queues);
  const callId = agent.call_id || agent.wrapup_call_id;
  if (callId && (!current || current.callId !== callId)) {
    await showCall(callId, PHASE_OF_STATE[agent.state] || "wrap-up");
  } else if (current && callId === current.callId && PHASE_OF_STATE[agent.state]) {
    advance(PHASE_OF_STATE[agent.state]);
  } else if (current && !callId) {
    // What the stream did not tell us while it was away: the ring ended, or the talk did.
    if (current.phase === "ringing") endCall();
    else if (current.phase === "talking") setPhase("wrap-up");
  }
  clearTimeout(wrapupTimer);
  if (agent.wrapup_left_s !== null && agent.wrapup_left_s !== undefined) {
    wrapupTimer = setTimeout(() => quietly(refresh), agent.wrapup_left_s * 1000 + 300);
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => quietly(refresh), 250);
}

function renderState(agent) {
  const state = $("state");
  state.dataset.status = agent.status;
  state.dataset.state = agent.state;
  state.textContent = agent.status === "available"
    ? `${STATUS[agent.status]} · ${STATE[agent.state] || agent.state}`
    : STATUS[agent.status] || agent.status;
  const detail = [];
  if (agent.status === "paused" && agent.pause_reason) detail.push(`reason: ${agent.pause_reason}`);
  if (agent.status !== "available" && agent.state !== "idle") detail.push(STATE[agent.state] || agent.state);
  if (!agent.reachable) detail.push("your phone is not reachable");
  if (agent.wrapup_left_s) detail.push(`wrap-up ends in ${Math.ceil(agent.wrapup_left_s)} s`);
  detail.push(`${agent.calls_today} ${agent.calls_today === 1 ? "call" : "calls"} today`);
  $("state-detail").textContent = detail.join(" · ");
  $("login").disabled = agent.status !== "logged_out";
  $("logout").disabled = agent.status === "logged_out";
  $("pause").disabled = agent.status === "logged_out";
  $("resume").disabled = agent.status !== "paused";
}

function fillQueues(queues) {
  const select = $("transfer-queue");
  if (select.options.length > 1) return;
  select.append(...queues.map((q) => el("option", { value: q.queue_id }, q.name)));
}

async function command(name, reason) {
  const body = reason === undefined ? undefined : { reason };
  await api("POST", `/v1/me/agent/${name}`, body);
  await refresh();
}

$("login").addEventListener("click", () => run(() => command("login")));
$("logout").addEventListener("click", () => run(() => command("logout")));
$("resume").addEventListener("click", () => run(() => command("resume")));
$("pause").addEventListener("click", () => run(() => command("pause", $("pause-reason").value.trim())));

// --- the call on screen ------------------------------------------------------------------

async function showCall(callId, phase) {
  current = { callId, phase, muted: false };
  $("call").hidden = false;
  $("waiting").hidden = true;
  $("pop").hidden = true;
  resetForms();
  setPhase(phase);
  const handoff = await api("GET", `/v1/calls/${encodeURIComponent(callId)}/handoff`);
  if (current && current.callId === callId) renderPop(handoff);
}

function endCall(why) {
  current = null;
  $("call").hidden = true;
  const waiting = $("waiting");
  waiting.hidden = false;
  waiting.textContent = why
    ? `${why} No call for you right now.`
    : "No call for you right now. A call offered to you appears here with what the caller already told us.";
}

// What GET /v1/me/agent says, which may be a moment behind the stream: never back a step.
function advance(phase) {
  if (PHASES.indexOf(phase) > PHASES.indexOf(current.phase)) setPhase(phase);
}

function setPhase(phase) {
  current.phase = phase;
  const shown = $("call-phase");
  shown.dataset.phase = phase;
  shown.textContent = PHASE_TEXT[phase] || phase;
  $("talking").hidden = phase !== "talking";
  $("wrapup").hidden = phase !== "wrap-up";
  $("transfer").disabled = phase !== "talking";
  setMuted(current.muted);
}

function setMuted(muted) {
  if (!current) return;
  current.muted = muted;
  const button = $("mute");
  button.setAttribute("aria-pressed", String(muted));
  button.textContent = muted ? "Unmute recording" : "Mute recording (card data)";
  $("mute-state").textContent = muted ? "The recording is muted: it records silence." : "";
}

function resetForms() {
  $("transfer-form").reset();
  $("wrapup").reset();
  $("wrapup-result").textContent = "";
  $("wrapup-submit").textContent = "Save and get ready";
}

function renderPop(h) {
  $("pop-vip").hidden = !h.vip;
  $("pop-number").textContent = h.caller_number || "withheld";
  $("pop-queue").textContent = h.queue_id || "–";
  $("pop-agents").textContent = h.previous_agents.length ? h.previous_agents.join(", ") : "none";
  $("pop-misses").textContent = `${h.no_input} × no input, ${h.no_match} × not understood`;
  list($("pop-menu-path"), h.menu_path, (step) => {
    const [node, choice] = splitStep(step);
    return el("li", { dataset: { step } }, el("code", {}, node), " → ", el("strong", {}, choice));
  }, "no menu chosen");
  list($("pop-said"), [...h.utterances.map((u) => ["said", u]), ...h.intents.map((i) => ["intent", i])],
    ([kind, item]) => kind === "said"
      ? el("li", { class: "utterance" }, `“${item.text}”`,
        el("span", { class: "muted" }, ` (${percent(item.confidence)} sure, at ${item.node})`))
      : el("li", { class: "understood" }, "understood: ",
        el("span", { class: "tag intent" }, item.intent || "nothing"),
        el("span", { class: "muted" }, ` ${percent(item.confidence)}`)),
    "nothing said (keypad only)");
  list($("pop-answers"), h.answers, (a) => el("li", {},
    a.question || a.item_id || a.node, " ",
    el("span", { class: `tag ${a.state === "helped" ? "good" : a.state === "not_helped" ? "bad" : ""}` },
      ANSWER_STATE[a.state] || a.state)), "no self-service answer offered");
  list($("pop-notes"), h.notes, (n) => el("li", {},
    el("span", { class: "by" }, `${n.agent} (${n.by}) sent the caller on` +
      (n.queue ? ` to ${n.queue}` : "") + (n.min_tier ? `, tier ${n.min_tier}+` : "")),
    el("blockquote", {}, n.notes || "no notes")), "no earlier agent");
  $("pop").hidden = false;
}

function list(target, items, render, none) {
  target.replaceChildren(...(items.length ? items.map(render) : [el("li", { class: "none" }, none)]));
}

function splitStep(step) {
  const at = step.indexOf("=");
  return at < 0 ? [step, ""] : [step.slice(0, at), step.slice(at + 1)];
}

function percent(confidence) {
  return typeof confidence === "number" ? `${Math.round(confidence * 100)} %` : "?";
}

// --- while talking, and after -----------------------------------------------------------

$("mute").addEventListener("click", () => run(async () => {
  if (!current) return;
  const path = `/v1/calls/${encodeURIComponent(current.callId)}/recording/mute`;
  const answer = await api(current.muted ? "DELETE" : "POST", path);
  setMuted(answer.muted);
}));

$("transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    if (!current) return;
    const body = { notes: $("transfer-notes").value };
    if ($("transfer-queue").value) body.queue_id = $("transfer-queue").value;
    if ($("transfer-tier").value) body.min_tier = Number($("transfer-tier").value);
    await api("POST", `/v1/calls/${encodeURIComponent(current.callId)}/transfer`, body);
    setPhase("transferring");
  });
});

$("wrapup").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    if (!current) return;
    const code = $("disposition").value;
    const given = await api("POST", `/v1/calls/${encodeURIComponent(current.callId)}/disposition`,
      { code, notes: $("wrapup-notes").value });
    $("wrapup-result").textContent = `Saved: ${codes.get(given.disposition.code) || given.disposition.code}` +
      (given.replaced ? " (replacing your earlier one)" : "") +
      (given.wrapup_ended ? ". You are ready for the next caller." : ".");
    $("wrapup-submit").textContent = "Save again";
    await refresh();
  });
});

// --- the live event stream ---------------------------------------------------------------

function onEvent(e) {
  if (e.type === "agent_offer" && e.agent === me) {
    run(() => showCall(e.call_id, "ringing"));
    refreshSoon();
    return;
  }
  if (!current || e.call_id !== current.callId) return;
  if (e.type === "agent_answer") {
    if (e.agent === me) setPhase("talking");
    else if (current.phase === "ringing") endCall(`${e.agent} took the call.`);
  } else if (e.type === "agent_no_answer" && e.agent === me && current.phase === "ringing") {
    endCall("The call you did not answer went back to the queue.");
  } else if ((e.type === "transfer" || e.type === "agent_hangup") && e.agent === me) {
    setPhase("wrap-up");
  } else if (e.type === "hangup") {
    if (current.phase === "ringing") endCall("The caller hung up.");
    else if (current.phase === "talking" || current.phase === "transferring") setPhase("wrap-up");
  } else if (e.type === "recording" && (e.state === "muted" || e.state === "unmuted")) {
    setMuted(e.state === "muted");
  }
  refreshSoon();
}

let attempts = 0;

function setLive(state, text) {
  const live = $("live");
  live.className = `live ${state}`;
  live.dataset.state = state;
  live.textContent = text;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/v1/events`);
  socket.addEventListener("open", () => {
    attempts = 0;
    setLive("fresh", "live");
    quietly(refresh); // catch up on what happened while the stream was away
  });
  socket.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    onEvent(event);
  });
  socket.addEventListener("close", () => {
    setLive("reconnecting", "reconnecting…");
    const delay = Math.min(10000, 500 * 2 ** attempts);
    attempts += 1;
    setTimeout(connect, delay);
  });
}

// What the agent asked for: the last problem goes, a new one shows (naming its fields).
async function run(action) {
  clearError(problem);
  return quietly(action);
}

// Work the page does by itself: a problem shows, but none the agent is reading is cleared.
async function quietly(action) {
  try {
    return await action();
  } catch (error) {
    showError(problem, error);
    return undefined;
  }
}

await run(async () => {
  const found = await api("GET", "/v1/dispositions");
  codes = new Map(found.items.map((c) => [c.code, c.label]));
  $("disposition").append(...found.items.map((c) => el("option", { value: c.code }, c.label)));
});
await run(refresh);
connect();
