// What the duty desk's pages share (reports.html, report-form.html, duty.html) beyond the page shell
// (ui/shell.js: sign-in for a command-centre account, the header, language and sign-out): the glossary's
// words on static markup, toasts and problem messages. Who may do what is the server's table (vocab.js `can`).
import { problemText } from "./api.js";
import { esc } from "./format.js";
import { label, onLangChange } from "./i18n.js";
import { startShell } from "./shell.js";
import { can } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
let toastTimer = null;

/** Glossary terms on static markup: data-label="group.code" (the record's words come from domain/glossary.py). */
export function applyLabels(root = document) {
  for (const el of root.querySelectorAll("[data-label]")) {
    const [group, code] = el.dataset.label.split(".");
    el.textContent = label(group, code);
  }
}

/** Whether the signed-in account may call `route` ("METHOD /path" as in vocab.js PERMISSIONS). */
export function may(user, route) {
  return !!user && can(user.role, route);
}

/**
 * Start a desk page on the shell: an account that may call `route` (others are told to use a
 * command-centre account), then `onStart(user)`; `onLang` redraws after the language changed, `onSignOut`
 * forgets the account.
 */
export function startDesk({ route, onStart, onLang = () => {}, onSignOut = () => {} }) {
  applyLabels();
  onLangChange(() => {
    applyLabels();
    onLang();
  });
  return startShell({ route, forbiddenKey: "desk.notDesk", onStart, onSignOut });
}

export function toast(message, bad = false) {
  let el = $("#toast");
  if (!el) {
    el = document.createElement("div");
    el.id = "toast";
    el.setAttribute("role", "status");
    document.body.append(el);
  }
  el.className = `toast${bad ? " bad" : ""}`;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

export { problemText }; // api.js: the one wording of a problem

export function showProblem(box, e) {
  box.hidden = false;
  box.innerHTML = esc(problemText(e));
}
