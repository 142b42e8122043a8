// The sign-in form every page shares (#login-form, #login-username, #login-password, #login-submit,
// #login-error): one submit handler, so each page says only who it accepts and what comes next.
import * as api from "./api.js";
import { esc } from "./format.js";
import { t } from "./i18n.js";

const $ = (sel) => document.querySelector(sel);

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
