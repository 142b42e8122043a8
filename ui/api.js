// The REST API under /api/v1: sign-in, queries, and commands with Idempotency-Key.
import { label, t } from "./i18n.js";

export const API = "/api/v1";
const TOKEN_KEY = "yingji.token";
const USER_KEY = "yingji.user";

let unauthorizedHandler = () => {};
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function getUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(token, user) {
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function clearSession() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
}

/** The user signs out: the server revokes the token (so a copy of it stops working too), then the session is dropped. */
export function revokeSession() {
  const token = getToken();
  if (token) {
    fetch(`${API}/auth/signout`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, keepalive: true }).catch(() => {});
  }
  clearSession();
}

/** True when the token is a JWT whose `exp` has passed (anything unreadable is left to the server to judge). */
export function tokenExpired(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" && payload.exp * 1000 < Date.now();
  } catch {
    return false;
  }
}

/** A random UUID; crypto.randomUUID needs a secure context, so plain-HTTP wall screens get the fallback. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) {
    try {
      return crypto.randomUUID();
    } catch {
      /* fall through */
    }
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A failed request: the server's problem+json, or a network failure (code "network", status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || (status === 0 ? "network" : `http_${status}`);
    this.detail = problem?.detail || "";
    this.problem = problem || {};
  }

  /** The Chinese (or English) name of the error code. */
  get heading() {
    const known = label("errorCode", this.code);
    return known && known !== this.code ? known : this.problem.title || t("err.title");
  }

  /** Field-level messages of a validation error, as "field: message". */
  get fieldErrors() {
    return (this.problem.errors || []).map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`);
  }
}

/** A refused or failed request, in words: the code's name, the server's detail, each field's complaint. */
export function problemText(e) {
  const fields = e.fieldErrors?.length ? ` (${e.fieldErrors.join("; ")})` : "";
  return `${e.heading}${e.detail ? ` — ${e.detail}` : ""}${fields}`;
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return { detail: res.statusText };
  }
}

async function send(method, path, { body, form, headers = {}, auth = true } = {}) {
  const h = { Accept: "application/json", ...headers };
  const token = getToken();
  if (auth && token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    payload = new URLSearchParams(form);
  } else if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, { method, headers: h, body: payload, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, { code: "network", detail: t("err.network") });
  }
  if (res.status === 401 && auth) {
    const p = await problemOf(res);
    unauthorizedHandler(p);
    throw new ApiError(401, p);
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  const json = res.status === 204 ? null : await res.json();
  return { json, res };
}

export async function get(path) {
  return (await send("GET", path)).json;
}

/** Save a file the server builds (an Excel export): fetched with the session's token, so not a plain link. */
export async function downloadFile(path, filename) {
  let res;
  try {
    res = await fetch(API + path, { headers: { Authorization: `Bearer ${getToken()}` }, cache: "no-store" });
  } catch {
    throw new ApiError(0, { code: "network", detail: t("err.network") });
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A request outside the log (an account's own push subscriptions): plain JSON, no Idempotency-Key. */
export async function request(method, path, body) {
  return (await send(method, path, body === undefined ? {} : { body })).json;
}

export async function signIn(username, password) {
  const { json } = await send("POST", "/auth/token", { form: { username, password }, auth: false });
  saveSession(json.access_token, json.user);
  return json;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One command the user is about to send (e.g. one dialog's submit). It keeps its Idempotency-Key
 * until the server answers, so resending the same body — by the automatic retry on a network
 * failure, or by the user pressing Retry — can never apply twice. A changed body gets a new key.
 */
export class Command {
  constructor(path) {
    this.path = path;
    this.key = null;
    this.bodyText = null;
  }

  get pending() {
    return this.key !== null;
  }

  async send(body, { retries = 2 } = {}) {
    const text = JSON.stringify(body ?? {});
    if (this.key === null || this.bodyText !== text) {
      this.key = newKey();
      this.bodyText = text;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const { json, res } = await send("POST", this.path, { body: text, headers: { "Idempotency-Key": this.key } });
        this.key = null; // answered: done
        return { ...json, replayed: res.headers.get("Idempotent-Replayed") === "true" };
      } catch (e) {
        const retryable = e.status === 0 || e.status >= 500 || e.status === 408 || e.status === 429;
        if (!retryable) {
          this.key = null; // the server answered; a new attempt is a new command
          throw e;
        }
        if (attempt >= retries) throw e; // the key stays: a manual retry reuses it
        await sleep(400 * 2 ** attempt + Math.random() * 200);
      }
    }
  }
}

/** Upload files for a record of `unitCode` (POST /evidence, multipart); answers their records, named by SHA-256. */
export async function upload(unitCode, files) {
  const form = new FormData();
  form.append("unit_code", unitCode);
  for (const f of files) form.append("files", f, f.name);
  let res;
  try {
    res = await fetch(`${API}/evidence`, { method: "POST", body: form, headers: { Authorization: `Bearer ${getToken()}` }, cache: "no-store" });
  } catch {
    throw new ApiError(0, { code: "network", detail: t("err.network") });
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  return (await res.json()).files;
}

/** Open a kept file (a plan's document, a photo) in a new tab: fetched with the session's token, so not a plain link. */
export async function openFile(sha256) {
  const res = await fetch(`${API}/evidence/${sha256}`, { headers: { Authorization: `Bearer ${getToken()}` }, cache: "no-store" });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  const url = URL.createObjectURL(await res.blob());
  window.open(url, "_blank", "noopener");
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
