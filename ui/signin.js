// The sign-in form every page shares (#login-form, #login-username, #login-password, #login-submit,
// #login-error): one submit handler, so each page says only who it accepts and what comes next.
import * as api from "./api.js";
import { esc } from "./format.js";
import { t } from "./i18n.js";
import { known } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);

// The emblem every page's header and sign-in card show (<use href="#emblem">).
const EMBLEM = `<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs><symbol id="emblem" viewBox="0 0 32 32">
  <path d="M16 2 28 7v8c0 7-5 12-12 15C9 27 4 22 4 15V7z" fill="#c8222a"/>
  <path d="M16 4.2 26 8.4v6.6c0 6-4.2 10.3-10 12.9C10.2 25.3 6 21 6 15V8.4z" fill="none" stroke="#ffd36b" stroke-width="1"/>
  <path d="M14 9h4v5h5v4h-5v5h-4v-5H9v-4h5z" fill="#fff"/></symbol></defs></svg>`;

const i18n = (key) => `<span data-i18n="${key}">${esc(t(key))}</span>`;

/**
 * Draw the sign-in card into the page's `<div id="login">`, so its markup is written once for every page.
 * The div says what differs: `data-title` (the heading's key), `data-subtitle` (keys joined by " · "),
 * `data-district` (the district's name leads title and subtitle), `data-phone` (a phone's keyboard, a larger button).
 */
function mountSignIn() {
  document.body.insertAdjacentHTML("afterbegin", EMBLEM);
  const box = $("#login");
  if (!box || box.firstElementChild) return;
  const { title = "login.title", subtitle = "", district, phone } = box.dataset;
  const name = district !== undefined ? '<span class="district-name"></span>' : "";
  const sub = subtitle.split(" · ").filter(Boolean).map(i18n).join(" · ");
  const keyboard = phone !== undefined ? ' autocapitalize="off" autocorrect="off" spellcheck="false"' : " autofocus";
  box.innerHTML = `<form id="login-form" class="login-card" autocomplete="on">
      <div class="login-brand">
        <svg class="emblem-lg" aria-hidden="true"><use href="#emblem"/></svg>
        <div>
          <div class="login-title">${name}${i18n("app.title")}</div>
          <div class="login-sub">${name}${sub}</div>
        </div>
      </div>
      <h1 data-i18n="${title}">${esc(t(title))}</h1>
      <label>${i18n("login.username")}
        <input id="login-username" name="username" autocomplete="username"${keyboard} required></label>
      <label>${i18n("login.password")}
        <input id="login-password" name="password" type="password" autocomplete="current-password" required></label>
      <div id="login-error" class="form-error" role="alert" hidden></div>
      <button type="submit" id="login-submit" class="btn btn-primary btn-block${phone !== undefined ? " btn-xl" : ""}" data-i18n="login.submit">${esc(t("login.submit"))}</button>
      <div class="login-foot"><button type="button" class="btn btn-ghost lang-toggle-login" data-i18n="lang.toggle">${esc(t("lang.toggle"))}</button></div>
    </form>`;
}

mountSignIn();

/**
 * Sign in with the form's fields. `refuse(user)` returns a message when this page is not for that
 * account (the session is then dropped again); otherwise `onSignedIn(answer)` runs.
 */
export async function submitSignIn(event, { onSignedIn, refuse = () => "" }) {
  event.preventDefault();
  const btn = $("#login-submit");
  const err = $("#login-error");
  err.hidden = true;
  btn.disabled = true;
  btn.textContent = t("login.busy");
  try {
    const answer = await api.signIn($("#login-username").value.trim(), $("#login-password").value);
    const refusal = refuse(answer.user);
    if (refusal) {
      api.clearSession();
      err.hidden = false;
      err.textContent = refusal;
      return;
    }
    $("#login-password").value = "";
    await onSignedIn(answer);
  } catch (ex) {
    err.hidden = false;
    const why = ex.code === "network" ? t("err.network") : ex.status === 401 ? t("login.wrong") : `${ex.heading}${ex.detail ? ` — ${ex.detail}` : ""}`;
    err.innerHTML = `<strong>${esc(t("login.failed"))}</strong> ${esc(why)}`;
  } finally {
    btn.disabled = false;
    btn.textContent = t("login.submit");
  }
}

/** Show the sign-in form (with `message`, if any) instead of the page, the cursor where typing goes next. */
export function showSignIn(message = "", lastUsername = "") {
  $("#app").hidden = true;
  $("#login").hidden = false;
  const err = $("#login-error");
  err.hidden = !message;
  err.textContent = message;
  const u = $("#login-username");
  if (!u.value && lastUsername) u.value = lastUsername;
  (u.value ? $("#login-password") : u).focus();
}

// The sign-out button of a page written in HTML revokes the token on the server (api.revokeSession):
// it is that route's control (the desk shell writes its own, shell.js).
const signOutButton = document.getElementById("sign-out");
if (signOutButton) signOutButton.dataset.command = known("POST /auth/signout");
