// Evaluations: QA sees every evaluation in their scope; an agent sees only the released
// evaluations of their own calls (the API decides) and may dispute one.
import { api, el, showError, signedIn } from "/ui/shell/shell.js";
import { evaluationCard } from "/ui/qa/scorecard.js";

const who = await signedIn(["agent", "qa", "supervisor", "admin"]);
const list = document.getElementById("list");
const problem = document.getElementById("problem");
const filter = document.getElementById("filter");
const agentView = who.role === "agent";
filter.hidden = agentView;
document.getElementById("title").textContent = agentView ? "My evaluations" : "Evaluations";
document.getElementById("intro").textContent = agentView
  ? "Evaluations QA released to you, of your own calls. Listen to the call, and dispute a score you disagree with."
  : "Every evaluation in your queues, newest first; release them to the agent from the recording.";

filter.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
await load();

async function load() {
  const agent = filter.elements.agent_id.value.trim();
  try {
    const found = await api("GET", "/v1/qa/evaluations" + (agent ? `?agent_id=${encodeURIComponent(agent)}` : ""));
    list.replaceChildren(...(found.length ? found.map((e) => el("div", {},
      el("a", { href: `/qa/recordings/${encodeURIComponent(e.recording_id)}` }, "Listen to the call"),
      evaluationCard(e, who, load)))
      : [el("p", { class: "empty" }, agentView ? "No evaluation has been released to you yet." : "No evaluation yet.")]));
  } catch (error) {
    showError(problem, error);
  }
}
