// Scoring a call on a scorecard form (its newest version), and an evaluation as people read it:
// the score with pass/fail or auto-fail, each answer, and the next step its state allows
// (QA releases, the agent disputes, QA resolves). The server scores; the page only shows it.
import { api, clearError, el, showError, when } from "/ui/shell/shell.js";

export class Scorecard {
  constructor(recordingId, choice, form, problem, onSaved) {
    Object.assign(this, { recordingId, choice, form, problem, onSaved });
    this.forms = [];
  }

  async start() {
    try {
      this.forms = await api("GET", "/v1/qa/forms");
    } catch (error) {
      showError(this.problem, error);
      return;
    }
    if (!this.forms.length) {
      this.choice.replaceChildren(el("option", { value: "" }, "no form yet"));
      this.form.replaceChildren(el("p", { class: "empty" }, "No scorecard form exists: ",
        el("a", { href: "/qa/forms" }, "make one"), "."));
      return;
    }
    this.choice.replaceChildren(...this.forms.map((f) =>
      el("option", { value: f.form_id }, `${f.name} (v${f.version})`)));
    this.choice.addEventListener("change", () => this.render());
    this.form.addEventListener("submit", (event) => this.submit(event));
    this.render();
  }

  current() {
    return this.forms.find((f) => f.form_id === this.choice.value);
  }

  render() {
    const form = this.current();
    const rows = form.criteria.map((c) => {
      const options = [];
      for (let p = c.max_points; p >= 0; p--) {
        const label = c.max_points === 1 ? (p === 1 ? "met" : "not met") : `${p} of ${c.max_points}`;
        options.push(el("option", { value: String(p) }, label));
      }
      if (c.allow_na) options.push(el("option", { value: "na" }, "N/A"));
      return el("div", { class: "criterion" },
        el("div", { class: "what" }, c.text, el("br"), el("span", { class: "weight" },
          `weight ${c.weight}`, c.auto_fail ? " · auto-fail" : "", c.allow_na ? " · N/A allowed" : "")),
        el("select", { name: c.criterion_id, "aria-label": c.text }, ...options));
    });
    this.form.replaceChildren(...rows,
      el("label", {}, "Comment for the agent", el("textarea", { name: "comment", maxlength: 4000 })),
      el("div", { class: "actions" }, el("button", { type: "submit" }, "Save evaluation"),
        el("span", { class: "muted" }, `passing score ${form.passing_score}`)));
  }

  async submit(event) {
    event.preventDefault();
    const form = this.current();
    const answers = form.criteria.map((c) => {
      const value = this.form.elements[c.criterion_id].value;
      return { criterion_id: c.criterion_id, points: value === "na" ? null : Number(value) };
    });
    try {
      await api("POST", `/v1/recordings/${encodeURIComponent(this.recordingId)}/evaluations`, {
        form_id: form.form_id, form_version: form.version, answers,
        comment: this.form.elements.comment.value,
      });
      clearError(this.problem);
      this.render();
      await this.onSaved();
    } catch (error) {
      showError(this.problem, error);
    }
  }
}

function scoreLine(e) {
  if (e.auto_failed) return el("span", { class: "score failed" }, "0 · auto-fail");
  if (e.score === null) return el("span", { class: "score" }, "nothing to score (all N/A)");
  return el("span", { class: `score ${e.passed ? "passed" : "failed"}` },
    `${e.score} · ${e.passed ? "passed" : "not passed"}`);
}

export function evaluationCard(e, who, reload) {
  const problem = el("div");
  const step = async (path, body) => {
    try {
      await api("POST", `/v1/qa/evaluations/${e.evaluation_id}/${path}`, body);
      await reload();
    } catch (error) {
      showError(problem, error);
    }
  };
  const actions = el("div", { class: "actions" });
  const reviewer = who.role !== "agent";
  if (reviewer && e.state === "submitted") {
    actions.append(el("button", { type: "button", class: "secondary", onclick: () => step("release", {}) },
      "Release to the agent"));
  }
  if (who.role === "agent" && e.state === "released") {
    const reason = el("input", { placeholder: "why you disagree", "aria-label": "dispute reason" });
    actions.append(reason, el("button", { type: "button", class: "secondary",
      onclick: () => step("dispute", { reason: reason.value }) }, "Dispute"));
  }
  if (reviewer && e.state === "disputed") {
    const resolution = el("input", { placeholder: "upheld, or what changed", "aria-label": "resolution" });
    actions.append(resolution, el("button", { type: "button", class: "secondary",
      onclick: () => step("resolve", { resolution: resolution.value }) }, "Resolve"));
  }
  return el("div", { class: "evaluation", dataset: { evaluationId: e.evaluation_id } },
    scoreLine(e), " ", el("span", { class: "tag" }, e.state),
    el("div", { class: "muted" }, `${e.form_id} v${e.form_version} · by ${e.reviewer} · ${when(e.created_at)}`
      + ` · agent ${e.agent_id}`),
    el("ul", {}, ...e.answers.map((a) => el("li", {}, `${a.criterion_id}: `,
      a.points === null ? "N/A" : String(a.points)))),
    e.comment ? el("p", {}, e.comment) : null,
    e.dispute_reason ? el("p", { class: "notice" }, `Disputed: ${e.dispute_reason}`) : null,
    e.resolution ? el("p", {}, `Resolved by ${e.resolved_by}: ${e.resolution}`) : null,
    actions, problem);
}
