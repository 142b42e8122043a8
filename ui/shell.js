// The desk page shell: sign-in, session check, who is signed in, language toggle and sign-out,
// written once. A page says which route it needs (so the role rule comes from ui/vocab.js) and
// what to do once signed in; the shell does the rest the same way on every page that uses it.
import * as api from "./api.js";
import { esc } from "./format.js";
import { applyStatic, getLang, label, onLangChange, setLang, t } from "./i18n.js";
import { showSignIn, submitSignIn } from "./signin.js";
import { can, command } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const i18n = (key) => `<span data-i18n="${key}">${esc(t(key))}</span>`;

/**
 * Draw the desk page's header into its `<header class="topbar" data-title="…">`, written once for
 * every page that uses the shell: the emblem, the district and the page's name (`data-title`, a
 * dictionary key), the way back to the board, who is signed in, the language and sign-out buttons.
 */
function mountTopbar() {
  const bar = document.querySelector("header.topbar[data-title]");
  if (!bar || bar.firstElementChild) return;
  bar.innerHTML = `<div class="brand">
      <svg class="emblem" aria-hidden="true"><use href="#emblem"/></svg>
      <div class="brand-text">
        <div class="brand-title"><span class="district-name"></span>${i18n("app.title")}</div>
        <div class="brand-sub"><span class="district-name"></span>${i18n("app.district")} · ${i18n(bar.dataset.title)}</div>
      </div>
    </div>
    <div class="topbar-right">
      <a class="btn btn-ghost" href="board.html" data-i18n="records.toBoard">${esc(t("records.toBoard"))}</a>
      <div class="user"><div id="user-name" class="user-name"></div><div id="user-role" class="user-role"></div></div>
      <button id="lang-toggle" class="btn btn-ghost" type="button" data-i18n-title="lang.toggleTitle" data-i18n="lang.toggle">${esc(t("lang.toggle"))}</button>
      <button id="sign-out" class="btn btn-ghost" type="button" data-i18n="user.signOut" ${command("POST /auth/signout")}>${esc(t("user.signOut"))}</button>
    </div>`;
}

mountTopbar();

function showDistrictName(name) {
  for (const el of document.querySelectorAll(".district-name")) el.textContent = name;
}

function renderUser(user) {
  const name = $("#user-name");
  const role = $("#user-role");
  if (name) name.textContent = user ? user.display_name || user.username : "";
  if (role) role.textContent = user ? `${label("role", user.role)} · ${user.username}` : "";
}

function toggleLang() {
  setLang(getLang() === "zh" ? "en" : "zh");
}

/**
 * Start a page: `route` is the "METHOD /path" the page cannot work without; `onStart(user)` runs
 * once signed in (and again after a new sign-in); `onSignOut()` clears what the page holds.
 */
export function startShell({ route, forbiddenKey = "login.forbidden", onStart, onSignOut = () => {} }) {
  applyStatic();
  try {
    showDistrictName(localStorage.getItem("yingji.district") || "");
  } catch {
    /* first visit */
  }
  let user = null;

  const signOut = (message = "") => {
    api.clearSession();
    user = null;
    renderUser(null);
    onSignOut();
    showSignIn(message);
  };

  const start = async () => {
    user = api.getUser();
    if (!user || !can(user.role, route)) {
      signOut(user ? t(forbiddenKey) : "");
      return;
    }
    $("#login").hidden = true;
    $("#app").hidden = false;
    renderUser(user);
    api.get("/auth/me").then((me) => {
      user = me;
      api.saveSession(api.getToken(), me);
      renderUser(me);
    }).catch(() => {});
    api.get("/district").then((d) => {
      if (!d?.name) return;
      showDistrictName(d.name);
      try {
        localStorage.setItem("yingji.district", d.name);
      } catch {
        /* not important */
      }
    }).catch(() => {});
    await onStart(user);
  };

  api.onUnauthorized(() => signOut(t("login.expired")));
  $("#login-form").addEventListener("submit", (e) => submitSignIn(e, { onSignedIn: () => start() }));
  $("#lang-toggle")?.addEventListener("click", toggleLang);
  document.querySelector(".lang-toggle-login")?.addEventListener("click", toggleLang);
  $("#sign-out")?.addEventListener("click", () => {
    api.revokeSession(); // the server revokes the token, then the session is dropped
    signOut();
  });
  onLangChange(() => renderUser(user));

  const token = api.getToken();
  if (!token || api.tokenExpired(token)) {
    if (token) api.clearSession();
    showSignIn(token ? t("login.expired") : "");
  } else {
    start();
  }
  return { user: () => user, signOut };
}
