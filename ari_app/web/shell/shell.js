// The page shell every console page shares: who is signed in, the navigation for their role,
// JSON API calls with the session's CSRF token, errors that name their fields, small DOM helpers.
// Pages carry no data: everything comes from the API, which alone decides what a role sees.

const CONSOLES = [
  { href: "/agent", label: "My desk", roles: ["agent"] },
  { href: "/supervisor/wallboard", label: "Wallboard", roles: ["supervisor", "admin"] },
  { href: "/supervisor/rules", label: "Routing rules", roles: ["supervisor", "admin"] },
  { href: "/supervisor/reports", label: "Reports", roles: ["supervisor", "admin"] },
  { href: "/supervisor/whatif", label: "What-if", roles: ["supervisor", "admin"] },
  { href: "/qa/recordings", label: "Recordings", roles: ["qa", "supervisor", "admin"] },
  { href: "/qa/forms", label: "Scorecard forms", roles: ["qa", "supervisor", "admin"] },
  { href: "/qa/evaluations", label: "Evaluations", roles: ["agent", "qa", "supervisor", "admin"] },
  { href: "/audit/listens", label: "Listen audit", roles: ["auditor", "admin"] },
  { href: "/knowledge/questions", label: "Unanswered questions", roles: ["editor", "admin"] },
];

let current = null;

export class ApiProblem extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || "error";
    this.problems = (body && body.problems) || [];
  }
}

export function consolesFor(role) {
  return CONSOLES.filter((c) => c.roles.includes(role));
}

// The signed-in person, or a trip to the login page (which brings them back here).
export async function signedIn(allowedRoles) {
  const response = await fetch("/v1/session", { credentials: "same-origin" });
  if (response.status === 401) {
    const next = location.pathname + location.search;
    location.replace("/login?next=" + encodeURIComponent(next));
    return new Promise(() => {}); // the page is being left
  }
  if (!response.ok) throw new ApiProblem(response.status, await bodyOf(response));
  current = await response.json();
  renderHeader(current);
  if (allowedRoles && !allowedRoles.includes(current.role)) {
    const main = document.querySelector("main");
    main.replaceChildren(el("p", { class: "notice", role: "alert" },
      `Signed in as ${current.actor} (${current.role}): this page is for ` +
      `${allowedRoles.join(", ")}.`));
    return new Promise(() => {});
  }
  return current;
}

// `keepalive`: the request outlives the page (a report sent as the reader leaves);
// `headers`: more request headers (e.g. If-Match).
export async function api(method, path, body, { keepalive = false, headers: extra = {} } = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && current && current.csrf_token) {
    headers[current.csrf_header || "X-CSRF-Token"] = current.csrf_token;
  }
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", keepalive,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.replace("/login?next=" + encodeURIComponent(location.pathname + location.search));
    return new Promise(() => {});
  }
  const answer = await bodyOf(response);
  if (!response.ok) throw new ApiProblem(response.status, answer);
  return answer;
}

async function bodyOf(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

// An error where the reader looks: the message and each field it names.
export function showError(target, error) {
  const box = el("div", { class: "error", role: "alert" },
    el("strong", {}, error.message || String(error)));
  if (error.problems && error.problems.length) {
    box.append(el("ul", {}, ...error.problems.map((p) =>
      el("li", {}, el("code", {}, p.field), " ", p.message))));
  }
  target.replaceChildren(box);
}

export function clearError(target) {
  target.replaceChildren();
}

function renderHeader(who) {
  const header = document.querySelector("header.shell");
  if (!header) return;
  const here = location.pathname;
  const links = consolesFor(who.role).map((c) =>
    el("a", { href: c.href, class: here.startsWith(c.href) ? "here" : "" }, c.label));
  const logout = el("button", { type: "button", class: "link", id: "sign-out" }, "Sign out");
  logout.addEventListener("click", async () => {
    await api("POST", "/v1/logout");
    location.replace("/login");
  });
  header.replaceChildren(
    el("a", { href: "/", class: "brand" }, "Hotline"),
    el("nav", {}, ...links),
    el("span", { class: "who" }, `${who.actor} · ${who.role}`),
    logout);
}

// el("a", {href: "/x", class: "y"}, "text", child, …)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// svg("rect", {x: 1, y: 2}, child, …): the same, for inline charts (SVG's own namespace).
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

export function clock(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const sign = seconds < 0 ? "−" : "";
  const s = Math.abs(seconds);
  const m = Math.floor(s / 60);
  const rest = (s - m * 60).toFixed(1).padStart(4, "0");
  return `${sign}${m}:${rest}`;
}

export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

// A form's filled fields as a query string (empty ones left out).
export function queryOf(form) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {
    if (String(value).trim() !== "") params.set(key, String(value).trim());
  }
  return params;
}
