// The page shell, written once for every page: sign-in, session check, who is signed in, the language
// toggle and sign-out (startSession); the server's clock and the header clock (ServerClock, showClock); the
// live board stream with its polling fallback (liveBoard). Desk pages take all of it with their header
// (startShell); the board, replay, field and reporter pages draw their own headers and use the parts.
// A page says which route it needs (so the role rule comes from ui/vocab.js) and what to do once signed in.
import * as api from "./api.js";
import { esc, fmtClock, parseIso } from "./format.js";
import { applyStatic, getLang, label, onLangChange, setLang, t } from "./i18n.js";
import { LiveConnection } from "./live.js";
import { showSignIn, submitSignIn } from "./signin.js";
import { can, command } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const i18n = (key) => `<span data-i18n="${key}">${esc(t(key))}</span>`;

/**
 * Draw the desk page's header into its `<header class="topbar" data-title="…">`, written once for
 * every page that uses the shell: the emblem, the district and the page's name (`data-title`, a
 * dictionary key), the way back to the board, who is signed in, the language and sign-out buttons.
 * What the page wrote inside the header (its own links, e.g. to a sibling page or "print") leads the right side.
 */
function mountTopbar() {
  const bar = document.querySelector("header.topbar[data-title]");
  if (!bar || bar.querySelector(".brand")) return;
  const own = [...bar.children];
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
  bar.querySelector(".topbar-right").prepend(...own);
}

mountTopbar();

export function showDistrictName(name) {
  for (const el of document.querySelectorAll(".district-name")) el.textContent = name;
}

/** The district's name as last seen (shown before the server answers), and remembering it. */
export function rememberDistrictName(name) {
  try {
    if (name === undefined) return localStorage.getItem("yingji.district") || "";
    localStorage.setItem("yingji.district", name);
  } catch {
    /* first visit, or storage refused: not important */
  }
  return name ?? "";
}

/** Who is signed in, in the header's #user-name and #user-role (where the page has them). */
export function renderUser(user) {
  const name = $("#user-name");
  const role = $("#user-role");
  if (name) name.textContent = user ? user.display_name || user.username : "";
  if (role) role.textContent = user ? `${label("role", user.role)} · ${user.username}` : "";
}

export function toggleLang() {
  setLang(getLang() === "zh" ? "en" : "zh");
}

/**
 * Sign-in, the session kept across reloads, the language buttons and sign-out, the same on every page.
 * - `onStart(user)`: signed in, by a saved session or the form (again after a new sign-in);
 * - `onSignOut()`: clear what the page holds, before the sign-in card shows;
 * - `refuse(user)`: a message when this page is not for that account: the form drops the session again;
 *   a saved one is kept (another page of the same browser may be using it) and the card says why;
 * - `mayLeave()`: false keeps the user signed in (e.g. taps still queued and the user changed their mind);
 * - `signInName()`: the name the sign-in card is filled with.
 * Returns `{ signOut(message) }`. Call it last in the page's start-up: a saved session starts the page at once.
 */
export function startSession({ onStart, onSignOut = () => {}, refuse = () => "", mayLeave = () => true, signInName = () => "" }) {
  applyStatic();
  showDistrictName(rememberDistrictName());
  const signOut = (message = "") => {
    onSignOut();
    api.clearSession();
    showSignIn(message, signInName());
  };
  api.onUnauthorized(() => signOut(t("login.expired")));
  $("#login-form").addEventListener("submit", (e) => submitSignIn(e, { onSignedIn: () => onStart(api.getUser()), refuse }));
  $("#lang-toggle")?.addEventListener("click", toggleLang);
  document.querySelector(".lang-toggle-login")?.addEventListener("click", toggleLang);
  $("#sign-out")?.addEventListener("click", () => {
    if (!mayLeave()) return;
    api.revokeSession(); // the server revokes the token, then the session is dropped
    signOut();
  });

  const token = api.getToken();
  const refused = token && !api.tokenExpired(token) ? refuse(api.getUser()) : "";
  if (!token || api.tokenExpired(token)) {
    if (token) api.clearSession();
    showSignIn(token ? t("login.expired") : "", signInName());
  } else if (refused) {
    showSignIn(refused, signInName());
  } else {
    onStart(api.getUser());
  }
  return { signOut };
}

/** The server's clock as best we know it: deadlines and ages are judged against it, not a drifting device clock. */
export class ServerClock {
  constructor() {
    this.offset = 0;
  }

  now() {
    return Date.now() + this.offset;
  }

  /** Learn from a server time (an ISO string); a change under a second is network jitter and ignored. */
  sync(at) {
    const ms = parseIso(at);
    if (Number.isNaN(ms)) return;
    const offset = ms - Date.now();
    if (Math.abs(offset - this.offset) > 1000) this.offset = offset;
  }
}

/** The header clock (#clock-time, #clock-date, #clock-weekday) at `ms`: the server's now, or a replayed moment. */
export function showClock(ms) {
  const c = fmtClock(ms);
  $("#clock-time").textContent = c.time;
  $("#clock-date").textContent = c.date;
  $("#clock-weekday").textContent = c.weekday;
}

/**
 * The live board stream (ui/live.js: WebSocket, reconnecting with backoff) as every live page uses it: the
 * page's `model` (a BoardModel) is resumed from and replaced by snapshots, the server's clock follows the
 * frames, and while the socket fails `poll()` fetches over HTTP (after `pollAfter` failed attempts in a row).
 * The page's callbacks: onSnapshot(frame) after the model took it; onDelta(frame, applied); onHeartbeat(frame);
 * onRelay(frame); onState(state, info); onAuthError() (the token no longer holds).
 */
export function liveBoard({ model, clock, onSnapshot, onDelta, onHeartbeat, onRelay, onState, onAuthError, poll, pollAfter = 1 }) {
  const live = new LiveConnection({
    getToken: api.getToken,
    getPosition: () => model().position,
    onSnapshot: (f) => {
      clock.sync(f.board?.at);
      model().replace(f.board, f.position);
      onSnapshot(f);
    },
    onDelta: (f) => onDelta(f, model().applyDelta(f)),
    onHeartbeat: (f) => {
      clock.sync(f.at);
      onHeartbeat(f);
    },
    onRelay,
    onState,
    onAuthError,
    onFailure: (n) => {
      if (n >= pollAfter) poll();
    },
  });
  live.start();
  return live;
}

/**
 * Start a page: `route` is the "METHOD /path" the page cannot work without; `onStart(user)` runs
 * once signed in (and again after a new sign-in); `onSignOut()` clears what the page holds.
 */
export function startShell({ route, forbiddenKey = "login.forbidden", onStart, onSignOut = () => {} }) {
  let user = null;
  const session = startSession({
    onStart: async () => {
      user = api.getUser();
      if (!user || !can(user.role, route)) {
        session.signOut(user ? t(forbiddenKey) : "");
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
        rememberDistrictName(d.name);
      }).catch(() => {});
      await onStart(user);
    },
    onSignOut: () => {
      user = null;
      renderUser(null);
      onSignOut();
    },
  });
  onLangChange(() => renderUser(user));
  return { user: () => user, signOut: session.signOut };
}
