// The first page after signing in: the consoles this person's role may open.
import { consolesFor, el, signedIn } from "/ui/shell/shell.js";

const who = await signedIn();
const consoles = consolesFor(who.role);
document.getElementById("consoles").replaceChildren(
  ...(consoles.length ? consoles.map((c) => el("a", { href: c.href }, c.label))
    : [el("p", { class: "empty" }, `No console is made for the role ${who.role} yet.`)]));
