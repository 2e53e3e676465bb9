// The knowledge editors' list: grouped open questions, each with the call's context, and the
// three ways to close one (another way to ask an answer, a new answer, handled). Closing a
// group's first question closes the whole group (`also`).
import { api, el, showError, signedIn, when } from "/ui/shell/shell.js";

await signedIn(["editor", "admin"]);
const stateChoice = document.getElementById("state");
const groupsBox = document.getElementById("groups");
const problem = document.getElementById("problem");
let faq = { editable: false, items: [] };
stateChoice.addEventListener("change", load);
try {
  faq = await api("GET", "/v1/knowledge/faq");
} catch (error) {
  showError(problem, error);
}
await load();

async function load() {
  try {
    const found = await api("GET", `/v1/knowledge/questions?state=${stateChoice.value}`);
    document.getElementById("total").textContent = `${found.total} question${found.total === 1 ? "" : "s"} in ${found.groups.length} group${found.groups.length === 1 ? "" : "s"}`;
    groupsBox.replaceChildren(...(found.groups.length ? found.groups.map(group)
      : [el("p", { class: "empty" }, "Nothing here: every question callers asked was answered.")]));
  } catch (error) {
    showError(problem, error);
  }
}

function group(g) {
  return el("section", { class: "group" },
    el("h2", {}, el("span", { class: "count", title: "times asked" }, g.count), g.text),
    el("div", { class: "muted" }, `last asked ${when(g.latest_at)}`),
    ...g.questions.map((q, i) => question(q, i === 0 ? g.question_ids.slice(1) : [])));
}

function question(q, rest) {
  const box = el("div", { class: "question", dataset: { questionId: q.question_id } },
    el("div", { class: "said" }, "“", q.text, "”"),
    el("div", { class: "muted" }, [
      when(q.at), q.kind === "not_helped" ? `answer offered: ${q.offered_item_id} (caller said no)` : "no answer found",
      q.intent ? `intent ${q.intent}` : null, `ended: ${q.outcome}`,
    ].filter(Boolean).join(" · ")),
    q.transcript.length > 1 ? el("div", { class: "muted" }, "caller said: ", q.transcript.join(" / ")) : null,
    el("div", {}, ...q.recordings.map((r) => el("a", { href: "/qa/recordings/" + r.split("/").pop() }, "recording "))));
  if (q.state !== "open") {
    box.append(...[el("span", { class: "tag good" }, `${q.state.replaceAll("_", " ")} by ${q.handled_by}`),
      q.faq_item_id ? el("span", { class: "tag" }, q.faq_item_id) : null].filter(Boolean));
    return box;
  }
  const also = rest.length ? el("label", { class: "inline" },
    el("input", { type: "checkbox", name: "also", checked: true }), `also close the ${rest.length} like it`) : null;
  const alsoIds = () => (also && also.querySelector("input").checked ? rest : []);
  const failed = el("div");
  const send = async (path, body) => {
    try {
      await api("POST", `/v1/knowledge/questions/${q.question_id}/${path}`, { ...body, also: alsoIds() });
      await load();
    } catch (error) {
      showError(failed, error);
    }
  };
  const items = faq.items.map((item) => el("option", { value: item.item_id }, `${item.item_id}: ${item.question}`));
  const variant = el("form", {},
    el("label", {}, "Answer it already has", el("select", { name: "item_id", "aria-label": "FAQ item" }, ...items)),
    el("label", {}, "Words to add (default: as asked)", el("input", { name: "text", value: q.text })),
    el("button", { type: "submit" }, "Add as a way to ask it"));
  variant.addEventListener("submit", (event) => {
    event.preventDefault();
    send("variant", { item_id: variant.elements.item_id.value, text: variant.elements.text.value.trim() || undefined });
  });
  const answer = el("form", {},
    el("label", {}, "New answer id", el("input", { name: "item_id", required: true, placeholder: "e.g. policy-pets" })),
    el("label", {}, "Intent", el("input", { name: "intent", required: true, value: q.intent || "" })),
    el("label", {}, "Spoken answer (30 words at most, no digits)", el("textarea", { name: "answer_spoken", required: true })),
    el("label", {}, "Text for the agent's screen", el("textarea", { name: "answer_text", required: true })),
    el("button", { type: "submit" }, "Add the new answer"));
  answer.addEventListener("submit", (event) => {
    event.preventDefault();
    const f = answer.elements;
    send("answer", { item_id: f.item_id.value.trim(), intent: f.intent.value.trim(),
      answer_spoken: f.answer_spoken.value.trim(), answer_text: f.answer_text.value.trim() });
  });
  const handled = el("button", { type: "button", class: "secondary", onclick: () => send("handled", {}) }, "Mark handled");
  box.append(...[
    el("div", { class: "actions" }, handled, also),
    faq.editable ? el("details", {}, el("summary", {}, "Add as another way to ask an answer"), variant) : null,
    faq.editable ? el("details", {}, el("summary", {}, "Write a new answer"), answer) : null,
    faq.editable ? null : el("p", { class: "muted" }, "Answers live in the knowledge service (not embedded): change them there."),
    failed].filter(Boolean));
  return box;
}
