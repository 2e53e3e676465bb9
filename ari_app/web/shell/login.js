// Signing in: POST /v1/login sets the session cookie; then back to the page that sent us here.
import { ApiProblem, showError } from "/ui/shell/shell.js";

const form = document.getElementById("login");
const problem = document.getElementById("problem");

// Only a path on this service, never another site (an open redirect would help phishing).
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch("/v1/login", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
    });
    if (!response.ok) throw new ApiProblem(response.status, await response.json());
    location.replace(nextPage());
  } catch (error) {
    showError(problem, error);
    button.disabled = false;
  }
});
