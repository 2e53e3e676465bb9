// One recording: streamed from the service with HTTP Range (the audio element seeks by asking
// for a new range, and each range is written to the listen audit), its waveform, the call's
// journey on the recording's clock, comments pinned to times, scorecards and evaluations.
import { api, clearError, clock, el, showError, signedIn, when } from "/ui/shell/shell.js";
import { Waveform } from "/ui/qa/waveform.js";
import { evaluationCard, Scorecard } from "/ui/qa/scorecard.js";
import { reportWhatIsPlayed } from "/ui/qa/played.js";

// The journey details worth a line beside the player (module scope: used before the awaits end).
const SHOWN = ["node", "text", "digits", "choice", "target", "intent", "confidence", "queue",
  "agent", "state", "reason", "score", "item_id", "cause", "outcome", "summary", "to_queue", "tier",
  "action", "mode", "by"];  // action, mode, by: a supervisor's monitor (listen, whisper, barge)

const recordingId = decodeURIComponent(location.pathname.split("/").pop());
const audio = document.getElementById("audio");
const problem = document.getElementById("problem");
const who = await signedIn(["qa", "supervisor", "admin", "agent"]);
const reviewer = who.role !== "agent";
document.querySelectorAll(".qa-only").forEach((node) => { node.hidden = !reviewer; });
if (!reviewer) document.getElementById("back").setAttribute("href", "/qa/evaluations");

let timeline;
try {
  timeline = await api("GET", `/v1/recordings/${encodeURIComponent(recordingId)}/timeline`);
} catch (error) {
  showError(problem, error);
  document.querySelector(".grid").hidden = true;
  await new Promise(() => {}); // nothing more to show: the error says why
}

const seek = (seconds) => {
  audio.currentTime = Math.max(0, Math.min(seconds, timeline.duration_s));
  if (audio.paused) audio.play().catch(() => {});
};
const wave = new Waveform(document.getElementById("waveform"), timeline.duration_s, seek);
wave.set({ mutes: timeline.mutes, events: timeline.events });
audio.src = timeline.audio;
showFacts(timeline);
showJourney(timeline.events);
api("GET", `/v1/recordings/${encodeURIComponent(recordingId)}/peaks?points=600`)
  .then((found) => wave.set({ peaks: found.peaks }))
  .catch((error) => showError(problem, error));

document.getElementById("speed").addEventListener("change", (event) => {
  audio.playbackRate = Number(event.target.value);
});
audio.addEventListener("timeupdate", () => {
  document.getElementById("position").textContent =
    `${clock(audio.currentTime)} / ${clock(timeline.duration_s)}`;
  document.getElementById("comment-at").textContent = clock(audio.currentTime);
  wave.set({ position: audio.currentTime });
});

reportWhatIsPlayed(audio, `/v1/recordings/${encodeURIComponent(recordingId)}/plays`);

if (reviewer) {
  await loadComments();
  document.getElementById("comment-form").addEventListener("submit", addComment);
  document.getElementById("training-form").addEventListener("submit", addTraining);
  new Scorecard(recordingId, document.getElementById("form-choice"),
    document.getElementById("scorecard"), document.getElementById("score-problem"),
    loadEvaluations).start();
}
await loadEvaluations();

function showFacts(t) {
  const start = t.events.find((e) => e.type === "call_start");
  const facts = [
    ["Agent", t.agent_id], ["Queue", t.queue_id], ["Started", when(t.started_at)],
    ["Length", clock(t.duration_s)], ["Caller", start?.details?.caller ?? "–"],
    ["Format", `${t.format}, ${(t.size_bytes / 1024).toFixed(0)} kB`],
    ["PCI muted", t.mutes.length ? t.mutes.map((m) =>
      `${clock(m.start_s)}–${clock(m.end_s)} by ${m.by}${m.reason ? ` (${m.reason})` : ""}`).join("; ") : "no"],
  ];
  document.getElementById("title").textContent =
    `Call with ${t.agent_id} · ${t.queue_id} · ${when(t.started_at)}`;
  document.getElementById("facts").replaceChildren(
    ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function describe(event) {
  const d = event.details || {};
  const parts = SHOWN.filter((k) => d[k] !== undefined && d[k] !== null && typeof d[k] !== "object")
    .map((k) => `${k}: ${d[k]}`);
  if (d.summary && typeof d.summary === "object") parts.push("why: " + JSON.stringify(d.summary));
  return parts.join(" · ");
}

function showJourney(events) {
  const list = document.getElementById("journey");
  if (!events.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No journey stored for this call."));
    return;
  }
  list.replaceChildren(...events.map((e) => el("li", { class: e.t_s < 0 ? "before" : "" },
    e.t_s < 0 ? el("span", { class: "muted" }, clock(e.t_s))
      : el("button", { type: "button", class: "link", onclick: () => seek(e.t_s) }, clock(e.t_s)),
    el("span", {}, el("strong", {}, e.type.replaceAll("_", " ")), " ", el("span", { class: "muted" }, describe(e))))));
}

async function loadComments() {
  const comments = await api("GET", `/v1/recordings/${encodeURIComponent(recordingId)}/comments`);
  wave.set({ comments });
  const list = document.getElementById("comments");
  list.replaceChildren(...(comments.length ? comments.map((c) => el("li", {},
    el("button", { type: "button", class: "link", onclick: () => seek(c.at_s) }, clock(c.at_s)),
    el("span", {}, c.text, el("br"), el("span", { class: "muted" }, `${c.by}, ${when(c.created_at)}`))))
    : [el("li", { class: "empty" }, "No comment yet: pause where it matters and write one.")]));
}

async function addComment(event) {
  event.preventDefault();
  const form = event.target;
  const target = document.getElementById("comment-problem");
  try {
    await api("POST", `/v1/recordings/${encodeURIComponent(recordingId)}/comments`,
      { at_s: Math.round(audio.currentTime * 1000) / 1000, text: form.elements.text.value });
    form.reset();
    clearError(target);
    await loadComments();
  } catch (error) {
    showError(target, error);
  }
}

async function addTraining(event) {
  event.preventDefault();
  const form = event.target;
  const target = document.getElementById("training-problem");
  try {
    const entry = await api("POST", `/v1/recordings/${encodeURIComponent(recordingId)}/training`,
      { reason: form.elements.reason.value });
    clearError(target);
    document.getElementById("training-done").textContent = `In the library (added by ${entry.added_by}).`;
  } catch (error) {
    showError(target, error);
  }
}

async function loadEvaluations() {
  const found = await api("GET", `/v1/recordings/${encodeURIComponent(recordingId)}/evaluations`);
  const box = document.getElementById("evaluations");
  box.replaceChildren(...(found.length ? found.map((e) => evaluationCard(e, who, loadEvaluations))
    : [el("p", { class: "empty" }, reviewer ? "Not scored yet." : "No evaluation released to you.")]));
  if (reviewer && new Set(found.map((e) => e.reviewer)).size > 1) box.prepend(await calibration());
}

// Several reviewers on one call: how far apart they are, against the calibration target.
async function calibration() {
  const found = await api("GET", `/v1/recordings/${encodeURIComponent(recordingId)}/calibration`);
  return el("div", { class: "calibration" }, ...found.forms.filter((f) => f.score.count > 1).map((f) =>
    el("p", { class: f.within_target ? "ok" : "notice" },
      `Calibration ${f.form_id} v${f.form_version}: ${f.score.count} reviewers, scores ` +
      `${f.score.low}–${f.score.high} (spread ${f.score.spread}, target ≤ ${f.target})` +
      (f.auto_fail_agreed ? "" : "; they disagree on auto-fail"))));
}
