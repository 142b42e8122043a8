// The desk page shell: sign-in, session check, who is signed in, language toggle and sign-out,
// written once. A page says which route it needs (so the role rule comes from ui/vocab.js) and
// what to do once signed in; the shell does the rest the same way on every page that uses it.
import * as api from "./api.js";
import { applyStatic, getLang, label, onLangChange, setLang, t } from "./i18n.js";
import { showSignIn, submitSignIn } from "./signin.js";
import { can } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);

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
