// The inspector's phone (隐患排查): pick a village or site, record a hidden danger with photos, and
// later report its rectification with photos. Everything is written to the phone first (IndexedDB:
// the photos as they were taken, the command's body and its own Idempotency-Key) and sent when the
// network allows: the photos to POST /evidence (content-addressed, so sending them twice keeps one
// copy), then the command with the SAME key every time, so a report whose answer was lost on the way
// back is answered from the log, never recorded twice. A refusal (4xx) is kept and shown, not retried.
import * as api from "./api.js";
import { esc, fmtDateTime } from "./format.js";
import { label, onLangChange, t } from "./i18n.js";
import { pushButton } from "./notify.js";
import { renderUser, startSession } from "./shell.js";
import { DANGER_GRADES, DANGER_STEPS, command } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const DB_NAME = "yingji-inspect";
const STORE = "outbox";
const MINE_KEY = "yingji.inspect.mine";
const UNITS_KEY = "yingji.inspect.units";
const RISKS_KEY = "yingji.inspect.risks";
const state = { user: null, units: [], risks: [], items: [], mine: [], online: navigator.onLine, flushing: false, rectifying: null };
let session = null; // the shell's sign-in and sign-out (ui/shell.js)
let lastUsername = ""; // the sign-in card is filled with it again: one field less to type on the phone

// ------------------------------------------------------------------ the outbox, in IndexedDB
function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t_ = db.transaction(STORE, mode);
    const out = fn(t_.objectStore(STORE));
    t_.oncomplete = () => { db.close(); resolve(out?.result); };
    t_.onerror = () => { db.close(); reject(t_.error); };
  });
}

const outbox = {
  all: () => tx("readonly", (s) => s.getAll()).then((xs) => (xs ?? []).sort((a, b) => a.queued_at.localeCompare(b.queued_at))),
  put: (item) => tx("readwrite", (s) => s.put(item)),
  del: (id) => tx("readwrite", (s) => s.delete(id)),
};

const retryable = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

class Stop extends Error {}

async function post(path, init) {
  let res;
  try {
    res = await fetch(api.API + path, { method: "POST", cache: "no-store", ...init, headers: { Authorization: `Bearer ${api.getToken()}`, ...init.headers } });
  } catch {
    throw new Stop("network");
  }
  const json = await res.json().catch(() => ({}));
  if (res.status === 401) throw new Stop("auth");
  if (!res.ok && retryable(res.status)) throw new Stop("server");
  return { ok: res.ok, status: res.status, json };
}

/** Send one queued report: its photos, then its command. Returns the command's answer, or throws Stop to wait. */
async function sendItem(item) {
  if (!item.shas) {
    const form = new FormData();
    form.append("unit_code", item.unit_code);
    form.append("keep_location", item.keep ? "true" : "false");
    for (const f of item.files) form.append("files", f.blob, f.name);
    const up = await post("/evidence", { body: form });
    if (!up.ok) return up;
    item.shas = up.json.files.map((f) => f.sha256);
    await outbox.put(item);
  }
  return post(item.path, {
    body: JSON.stringify({ ...item.body, evidence: item.shas }),
    headers: { "Content-Type": "application/json", "Idempotency-Key": item.key },
  });
}

async function flush() {
  if (state.flushing || !state.user) return;
  state.flushing = true;
  let sent = 0;
  let last = 0;
  try {
    for (const item of await outbox.all()) {
      if (item.state === "failed") continue;
      try {
        const answer = await sendItem(item);
        if (answer.ok) {
          await outbox.del(item.id);
          sent += 1;
          last = Math.max(last, answer.json.position ?? 0);
        } else {
          item.state = "failed";
          item.error = `${label("errorCode", answer.json.code) || answer.status}${answer.json.detail ? ` — ${answer.json.detail}` : ""}`;
          await outbox.put(item);
        }
      } catch (e) {
        if (!(e instanceof Stop)) throw e;
        setOnline(e.message !== "network");
        if (e.message === "auth") signOut(t("login.expired"));
        break;
      }
    }
  } finally {
    state.flushing = false;
  }
  if (sent) {
    setOnline(true);
    toast(`${t("inspect.sent")} ${sent}`);
    await loadMine(last);
  }
  await renderOutbox();
}

async function queue(kind, path, unitCode, body, files, keep, title) {
  const item = {
    id: api.newKey(), key: api.newKey(), kind, path, unit_code: unitCode, body, keep, title, shas: null, state: "pending", error: "",
    files: [...files].map((f) => ({ name: f.name || "photo.jpg", type: f.type, blob: f })), queued_at: new Date().toISOString(),
  };
  await outbox.put(item);
  await renderOutbox();
  if (!state.online) toast(t("inspect.queued"));
  flush();
}

// ------------------------------------------------------------------ the page
function init() {
  pushButton($("#push-enable"), "inspect");
  $("#found-form").addEventListener("submit", onFound);
  $("#f-unit").addEventListener("change", renderRisks);
  $("#mine").addEventListener("click", (e) => {
    const b = e.target.closest("[data-rectify]");
    if (b) openRectify(b.dataset.rectify);
  });
  $("#sheet-form").addEventListener("submit", onRectified);
  $("#sheet-cancel").addEventListener("click", () => $("#sheet").close());
  window.addEventListener("online", () => { setOnline(true); flush(); });
  window.addEventListener("offline", () => setOnline(false));
  onLangChange(() => { renderForm(); renderMine(); renderOutbox(); setOnline(state.online); });
  setInterval(() => { if (state.user) flush(); }, 15_000);
  // The page itself then opens without a network (the outbox lives in IndexedDB, the last list in localStorage).
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("sw.js?page=inspect", { scope: "./inspect" }).catch(() => {});
  }
  session = startSession({
    onStart: () => start(),
    onSignOut: () => { state.user = null; }, // the outbox stays: it is sent once someone signs in again
    signInName: () => lastUsername,
  });
}

/** Sign out (e.g. the server no longer takes the token); the queued reports stay on the phone. */
function signOut(message = "") {
  session?.signOut(message);
}

function setOnline(online) {
  state.online = online;
  $("#conn-status").dataset.state = online ? "online" : "offline";
  $("#conn-label").textContent = t(online ? "inspect.online" : "inspect.offline");
}

/** The units an account acts in: its own and those below it (the one scope rule, by the division code's levels). */
function inScope(code) {
  return code.startsWith(state.user.scope_prefix ?? ""); // the server's scope rule (GET /auth/me)
}

async function start() {
  state.user = api.getUser();
  lastUsername = state.user.username;
  $("#login").hidden = true;
  $("#app").hidden = false;
  renderUser(state.user);
  setOnline(navigator.onLine);
  let units;
  try {
    units = (await api.get("/units?limit=1000")).items;
    try { localStorage.setItem(UNITS_KEY, JSON.stringify(units)); } catch { /* full: fetched again next time */ }
  } catch {
    setOnline(false);
    units = JSON.parse(localStorage.getItem(UNITS_KEY) || "[]"); // offline: the places known from the last visit
  }
  state.units = units.filter((u) => inScope(u.code)).sort((a, b) => a.code.localeCompare(b.code));
  try {
    state.risks = (await api.get("/risk-points?limit=1000")).items;
    try { localStorage.setItem(RISKS_KEY, JSON.stringify(state.risks)); } catch { /* full */ }
  } catch {
    state.risks = JSON.parse(localStorage.getItem(RISKS_KEY) || "[]");
  }
  $("#unit-name").textContent = units.find((u) => u.code === state.user.unit_code)?.name ?? "";
  renderForm();
  await loadMine();
  await renderOutbox();
  flush();
}

function renderForm() {
  const current = $("#f-unit").value;
  $("#f-unit").innerHTML = state.units.map((u) => `<option value="${esc(u.code)}"${u.code === current ? " selected" : ""}>${esc(u.name)}</option>`).join("");
  renderRisks();
  const grade = document.querySelector('input[name="grade"]:checked')?.value ?? DANGER_GRADES[0];
  $("#f-grades").innerHTML = DANGER_GRADES.map((g) => `<label class="${esc(g)}"><input type="radio" name="grade" value="${esc(g)}"${g === grade ? " checked" : ""}>${esc(label("dangerGrade", g))}</label>`).join("");
}

/** The risk points of the chosen place: a hidden danger is at one of them, or at a site named in words. */
function renderRisks() {
  const unit = $("#f-unit").value;
  $("#f-risk").innerHTML = `<option value="">${esc(t("inspect.noRisk"))}</option>`
    + state.risks.filter((r) => r.unit_code === unit).map((r) => `<option value="${esc(r.id)}">${esc(r.name)} · ${esc(r.subject)}</option>`).join("");
}

async function onFound(e) {
  e.preventDefault();
  const err = $("#found-error");
  const title = $("#f-title").value.trim();
  const site = $("#f-site").value.trim();
  const files = $("#f-photos").files;
  err.hidden = true;
  const risk = $("#f-risk").value;
  const missing = !title ? t("inspect.title") : !site && !risk ? t("inspect.site") : !files.length ? t("inspect.needPhoto") : "";
  if (missing) {
    err.hidden = false;
    err.textContent = missing;
    return;
  }
  const unit = $("#f-unit").value;
  const body = { unit_code: unit, grade: document.querySelector('input[name="grade"]:checked').value, title, site,
    description: $("#f-description").value.trim(), ...(risk ? { risk_point_id: risk } : {}) };
  await queue("found", "/hidden-dangers", unit, body, files, $("#f-keep").checked, title);
  $("#found-form").reset();
  renderForm();
}

async function loadMine(minPosition = 0) {
  try {
    const page = await api.get(`/hidden-dangers?limit=200${minPosition ? `&min_position=${minPosition}` : ""}`);
    state.mine = page.items;
    try { localStorage.setItem(MINE_KEY, JSON.stringify(page.items)); } catch { /* full: keep in memory */ }
  } catch (ex) {
    if (ex.status === 0) setOnline(false);
    state.mine = JSON.parse(localStorage.getItem(MINE_KEY) || "[]");
  }
  renderMine();
}

function renderMine() {
  const canReport = (d) => DANGER_STEPS.report.from.includes(d.status);
  $("#mine").innerHTML = state.mine.map((d) => `<li data-testid="mine-${esc(d.id)}" data-status="${esc(d.status)}">
      <div class="ib-title">${esc(label("dangerGrade", d.grade))} · ${esc(d.title)}</div>
      <div class="ib-meta">${esc(label("dangerStatus", d.status))}${d.site ? ` · ${esc(d.site)}` : ""}</div>
      ${d.deadline && canReport(d) ? `<div class="ib-meta${d.overdue ? " late" : ""}">${esc(t("danger.deadline"))} ${esc(fmtDateTime(d.deadline))}</div>` : ""}
      ${canReport(d) ? `<button type="button" class="btn btn-primary btn-block" data-rectify="${esc(d.id)}" ${command("POST /hidden-dangers/{danger_id}/rectified")}>${esc(t("inspect.rectified"))}</button>` : ""}
    </li>`).join("") || `<li class="ib-meta">${esc(t("dangers.none"))}</li>`;
}

function openRectify(id) {
  state.rectifying = state.mine.find((d) => d.id === id);
  if (!state.rectifying) return;
  $("#sheet-what").textContent = state.rectifying.title;
  $("#sheet-error").hidden = true;
  $("#sheet-form").reset();
  $("#sheet").showModal();
}

async function onRectified(e) {
  e.preventDefault();
  const d = state.rectifying;
  const files = $("#r-photos").files;
  if (!files.length) {
    $("#sheet-error").hidden = false;
    $("#sheet-error").textContent = t("inspect.needPhoto");
    return;
  }
  $("#sheet").close();
  await queue("rectified", `/hidden-dangers/${d.id}/rectified`, d.unit_code, { note: $("#r-note").value.trim() }, files, false,
    `${t("inspect.rectified")} · ${d.title}`);
}

async function renderOutbox() {
  state.items = await outbox.all();
  $("#outbox").hidden = state.items.length === 0;
  $("#outbox-count").textContent = t("inspect.pending", { n: state.items.length });
  $("#outbox-list").innerHTML = state.items.map((i) => `<li data-kind="${esc(i.kind)}">
      <div class="ib-title">${esc(i.title)}</div>
      <div class="ib-meta">${esc(fmtDateTime(i.queued_at))} · ${i.files.length} ${esc(t("dangers.evidence"))}</div>
      <div class="ib-state${i.state === "failed" ? " failed" : ""}">${esc(i.state === "failed" ? t("inspect.failed", { why: i.error }) : t("inspect.queued"))}</div>
    </li>`).join("");
}

let toastTimer = null;
function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

init();

