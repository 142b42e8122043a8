// What the duty desk's pages share (reports.html, report-form.html, duty.html): sign-in for a
// command-centre account, the language toggle, toasts, problem messages and authorised downloads.
// Who may do what is the server's table (vocab.js `can`), never decided here.
import * as api from "./api.js";
import { esc } from "./format.js";
import { applyStatic, getLang, label, onLangChange, setLang, t } from "./i18n.js";
import { showSignIn, submitSignIn } from "./signin.js";
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
 * Start a desk page: sign in (an account that may call `route`), then `onStart(user)`; `onLang` redraws.
 */
export function bootDesk({ route, onStart, onLang = () => {} }) {
  applyStatic();
  applyLabels();
  api.onUnauthorized(() => signOut(t("login.expired")));
  $("#login-form").addEventListener("submit", (e) => submitSignIn(e, {
    onSignedIn: () => start(),
    refuse: (user) => (can(user.role, route) ? "" : t("desk.notDesk")),
  }));
  const toggle = () => setLang(getLang() === "zh" ? "en" : "zh");
  $("#lang-toggle").addEventListener("click", toggle);
  document.querySelector(".lang-toggle-login").addEventListener("click", toggle);
  $("#sign-out").addEventListener("click", () => {
    api.revokeSession(); // the server revokes the token, then the session is dropped
    signOut();
  });
  onLangChange(() => {
    applyLabels();
    onLang();
  });

  async function start() {
    const user = api.getUser();
    if (!user || !can(user.role, route)) {
      api.clearSession();
      showSignIn(user ? t("desk.notDesk") : "");
      return;
    }
    $("#login").hidden = true;
    $("#app").hidden = false;
    $("#user-name").textContent = user.display_name || user.username;
    await onStart(user);
  }

  function signOut(message = "") {
    api.clearSession();
    showSignIn(message);
  }

  const token = api.getToken();
  if (!token || api.tokenExpired(token)) {
    if (token) api.clearSession();
    showSignIn(token ? t("login.expired") : "");
  } else {
    start();
  }
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

/** A refused command, in words: the code's name, the server's detail, each field's complaint. */
export function problemText(e) {
  const fields = e.fieldErrors?.length ? ` (${e.fieldErrors.join("; ")})` : "";
  return `${e.heading}${e.detail ? ` — ${e.detail}` : ""}${fields}`;
}

export function showProblem(box, e) {
  box.hidden = false;
  box.innerHTML = esc(problemText(e));
}

/** Download a file the API serves to signed-in accounts (the bearer token cannot ride on a plain link). */
export async function download(path, filename) {
  const res = await fetch(api.API + path, { headers: { Authorization: `Bearer ${api.getToken()}` } });
  if (!res.ok) throw new api.ApiError(res.status, await res.json().catch(() => ({})));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
