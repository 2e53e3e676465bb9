// Scorecard forms: the list, and an editor whose problems come back from the API by field
// (body.criteria[2].weight); "Edit" copies a form into the editor to save its next version.
import { api, clearError, el, showError, signedIn } from "/ui/shell/shell.js";

const who = await signedIn(["qa", "supervisor", "admin"]);
const editor = document.getElementById("editor");
const criteria = document.getElementById("criteria");
const problem = document.getElementById("problem");
editor.hidden = who.role === "supervisor"; // forms are QA's and admins' to change
document.getElementById("add-row").addEventListener("click", () => addRow());
editor.addEventListener("input", total);
editor.addEventListener("submit", save);
addRow({ criterion_id: "greeting", text: "Greets the caller and gives their name", weight: 100 });
await list();

function addRow(c = {}) {
  const row = el("tr", {},
    el("td", {}, el("input", { name: "criterion_id", value: c.criterion_id || "", "aria-label": "criterion id" })),
    el("td", {}, el("input", { name: "text", value: c.text || "", "aria-label": "criterion text" })),
    el("td", { class: "num" }, el("input", { name: "weight", type: "number", step: "any", min: 0, max: 100, value: c.weight ?? 0, "aria-label": "weight" })),
    el("td", { class: "num" }, el("input", { name: "max_points", type: "number", min: 1, max: 100, value: c.max_points ?? 1, "aria-label": "max points" })),
    el("td", {}, el("input", { name: "allow_na", type: "checkbox", checked: Boolean(c.allow_na), "aria-label": "N/A allowed" })),
    el("td", {}, el("input", { name: "auto_fail", type: "checkbox", checked: Boolean(c.auto_fail), "aria-label": "auto-fail" })),
    el("td", {}, el("button", { type: "button", class: "link", onclick: () => { row.remove(); total(); } }, "remove")));
  criteria.append(row);
  total();
}

function rowsOf() {
  return [...criteria.querySelectorAll("tr")].map((row) => {
    const field = (name) => row.querySelector(`[name=${name}]`);
    return {
      criterion_id: field("criterion_id").value.trim(), text: field("text").value.trim(),
      weight: Number(field("weight").value), max_points: Number(field("max_points").value),
      allow_na: field("allow_na").checked, auto_fail: field("auto_fail").checked,
    };
  });
}

function total() {
  const sum = rowsOf().reduce((s, c) => s + (Number.isFinite(c.weight) ? c.weight : 0), 0);
  const cell = document.getElementById("total");
  cell.textContent = String(Math.round(sum * 100) / 100);
  cell.className = "num " + (Math.abs(sum - 100) <= 0.01 ? "ok" : "");
}

async function save(event) {
  event.preventDefault();
  try {
    const saved = await api("POST", "/v1/qa/forms", {
      form_id: editor.elements.form_id.value.trim(), name: editor.elements.name.value.trim(),
      passing_score: Number(editor.elements.passing_score.value), criteria: rowsOf(),
    });
    clearError(problem);
    document.getElementById("saved").textContent = `Saved ${saved.form_id} version ${saved.version}.`;
    await list();
  } catch (error) {
    document.getElementById("saved").textContent = "";
    showError(problem, error);
  }
}

async function list() {
  const forms = await api("GET", "/v1/qa/forms");
  document.getElementById("forms").replaceChildren(...(forms.length ? forms.map((f) => el("div", { class: "evaluation" },
    el("strong", {}, f.name), ` · ${f.form_id} v${f.version} · pass at ${f.passing_score}`,
    el("ul", {}, ...f.criteria.map((c) => el("li", {}, `${c.text} (${c.weight}`,
      c.allow_na ? ", N/A" : "", c.auto_fail ? ", auto-fail" : "", ")"))),
    who.role === "supervisor" ? null : el("button", { type: "button", class: "secondary", onclick: () => edit(f) }, "Edit as next version")))
    : [el("p", { class: "empty" }, "No form yet.")]));
}

function edit(f) {
  editor.elements.form_id.value = f.form_id;
  editor.elements.name.value = f.name;
  editor.elements.passing_score.value = f.passing_score;
  criteria.replaceChildren();
  f.criteria.forEach((c) => addRow(c));
  editor.scrollIntoView();
}
