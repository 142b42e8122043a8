// The field team's phone: the team's current dispatch with thumb-sized buttons for the next step,
// incoming materials to sign for, the team's dispatch history. New dispatches arrive live over the
// board WebSocket (the server sends a field account only its own team's dispatches and allocations)
// with a banner, a beep and a vibration. Every tap goes through the outbox (field-queue.js): stored
// with its Idempotency-Key before it is sent, sent in order, retried with the same key, kept across
// reloads; the page shows the new state at once, marked "待同步" until the server confirms.
import * as api from "./api.js";
import { BoardModel } from "./board-model.js";
import { esc, fmtCountdown, fmtDuration, fmtHM, fmtTime, LEVEL_NUM, parseIso } from "./format.js";
import { getLang, label, materialName, materialUnit, onLangChange, setMaterials, t } from "./i18n.js";
import { Outbox } from "./field-queue.js";
import { pushButton } from "./notify.js";
import { liveBoard, ServerClock, startSession } from "./shell.js";
import {
  ALLOCATION_IN_FLIGHT, DISPATCH_ACTIVE, DISPATCH_FINAL, DISPATCH_FLOW, DISPATCH_NEXT_STEP, DISPATCH_STEPS,
  command,
} from "./vocab.js";

// The dispatch's rules come from domain/dispatches.py through the generated vocabulary.
const ACTIVE = new Set(DISPATCH_ACTIVE);
const TERMINAL = new Set(DISPATCH_FINAL);
const FLOW = DISPATCH_FLOW;
const STAMP = Object.fromEntries([...DISPATCH_ACTIVE, ...DISPATCH_FINAL].map((s) => [s, `${s}_at`])); // the read model's time of each
const STEPS = DISPATCH_STEPS; // the taps: the status each leads to and the statuses it applies in
const NEXT = DISPATCH_NEXT_STEP;
const ALLOC_OPEN = new Set(ALLOCATION_IN_FLIGHT);
const COOLDOWN_MS = 900; // after a tap the next step's button takes the same place: a double tap must not hit it
const CONFIRMED_HOLD_MS = 30_000; // show a confirmed step until the read model catches up
const CACHE_KEY = "yingji.field.cache";
const SEEN_KEY = "yingji.field.seen";
const NOTICE_KEY = "yingji.field.notices";
const POLL_EVERY_MS = 20_000;
const HISTORY_MAX = 30;

const $ = (sel) => document.querySelector(sel);
const clock = new ServerClock();
let session = null; // the shell's sign-in and sign-out (ui/shell.js)
const state = {
  user: null,
  team: null,
  dispatches: new Map(),
  allocations: new Map(),
  model: new BoardModel(),
  live: null,
  conn: "connecting",
  connInfo: {},
  syncedAt: null, // when the data was last known fresh (server time)
  seen: new Set(),
  bannerId: null,
  alerts: 0,
  confirmed: new Map(), // dispatch/allocation id → {target, at, until}: sent and accepted, read model not there yet
  cooldownUntil: 0,
  sheet: null,
  notices: [],
  pollAt: 0,
  loading: false,
  renderQueued: false,
};

const outbox = new Outbox({
  onChange: () => scheduleRender(),
  onSettled: settled,
  isReached,
  onUnauthorized: () => signOut(t("login.expired")),
});

// ------------------------------------------------------------------ start-up and session

function init() {
  pushButton($("#push-enable"), "field");
  $("#main").addEventListener("click", onMainClick);
  $("#new-banner").addEventListener("click", onBannerClick);
  $("#outbox-retry").addEventListener("click", () => {
    outbox.nudge();
    state.live?.state !== "online" && state.live?.restart();
  });
  $("#sheet-form").addEventListener("submit", onSheetSubmit);
  $("#sheet-cancel").addEventListener("click", closeSheet);
  $("#sheet").addEventListener("close", () => {
    state.sheet = null;
  });
  $("#sheet-body").addEventListener("click", (e) => {
    const chip = e.target.closest("[data-reason]");
    if (!chip) return;
    const ta = $("#sheet-body textarea[name=reason]");
    ta.value = chip.dataset.reason;
    ta.focus();
  });
  onLangChange(() => render());
  // Sound needs a user gesture first (autoplay policy): unlock it on the first touch anywhere.
  for (const type of ["pointerdown", "touchstart", "keydown"]) window.addEventListener(type, unlockAudio, { capture: true, passive: true });
  window.addEventListener("online", () => {
    state.live?.restart();
    outbox.nudge();
    render();
  });
  window.addEventListener("offline", () => render());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !state.user) return;
    outbox.nudge();
    if (state.live && state.live.state !== "online") state.live.restart();
    tick();
  });
  registerServiceWorker();

  session = startSession({
    onStart: () => start(),
    onSignOut: clearField,
    refuse: (user) => (user?.team_id ? "" : t("field.login.notField")), // a team's phone only
    mayLeave: () => {
      const n = outbox.items().length;
      return !n || window.confirm(t("field.signOutPending", { n }));
    },
    signInName: () => state.user?.username || "",
  });
  setInterval(tick, 1000);
}

function registerServiceWorker() {
  // The page itself then opens without a network (the outbox and the last known data live in localStorage).
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register("sw.js", { scope: "./field" }).catch(() => {});
}

/** Sign out; queued taps stay in the outbox and are sent once the same user signs in again. */
function signOut(message = "") {
  session?.signOut(message);
}

function clearField() {
  state.live?.stop();
  state.live = null;
  state.model = new BoardModel();
  state.team = null;
  state.dispatches = new Map();
  state.allocations = new Map();
  state.bannerId = null;
  closeSheet();
  $("#new-banner").hidden = true;
}

function start() {
  state.user = api.getUser();
  $("#login").hidden = true;
  $("#app").hidden = false;
  state.seen = new Set(readJson(`${SEEN_KEY}.${state.user.username}`, []));
  state.notices = readJson(`${NOTICE_KEY}.${state.user.username}`, []);
  restoreCache();
  render();
  loadAll();
  startLive();
  outbox.nudge();
}

function readJson(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null") ?? fallback;
  } catch {
    return fallback;
  }
}

function writeJson(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or private mode: the page still works while open */
  }
}

// ------------------------------------------------------------------ data

/** What the phone last knew, so the page shows something useful when it opens without a network. */
function restoreCache() {
  const c = readJson(CACHE_KEY, null);
  if (!c || c.user !== state.user.username) return;
  if (c.team) state.team = c.team;
  for (const d of c.dispatches ?? []) mergeDispatch(d);
  for (const a of c.allocations ?? []) mergeAllocation(a);
  if (c.materials?.length) setMaterials(c.materials);
  state.syncedAt = c.synced_at ?? null;
}

let cacheTimer = null;
let materialsCache = [];
function saveCache() {
  clearTimeout(cacheTimer);
  cacheTimer = setTimeout(() => {
    if (!state.user) return;
    writeJson(CACHE_KEY, {
      user: state.user.username, team: state.team, synced_at: state.syncedAt, materials: materialsCache,
      dispatches: [...state.dispatches.values()], allocations: [...state.allocations.values()],
    });
  }, 300);
}

const stamp = (doc) => parseIso(doc?.updated_at) || 0;

/** Keep the newer of two versions of a document (statuses only move forward). */
function mergeInto(map, doc) {
  if (!doc?.id) return;
  const cur = map.get(doc.id);
  if (!cur || stamp(doc) >= stamp(cur)) map.set(doc.id, doc);
}

function mergeDispatch(doc) {
  if (doc && state.user && doc.team_id !== state.user.team_id) return;
  mergeInto(state.dispatches, doc);
}

function mergeAllocation(doc) {
  if (doc && state.user && doc.team_id !== state.user.team_id) return;
  mergeInto(state.allocations, doc);
}

function setTeam(doc) {
  if (!doc || doc.id !== state.user?.team_id) return;
  if (!state.team || stamp(doc) >= stamp(state.team)) state.team = doc;
}

async function loadAll() {
  if (state.loading || !state.user) return;
  state.loading = true;
  state.pollAt = Date.now();
  const teamId = state.user.team_id;
  try {
    const [me, team, dispatches, allocations, materials] = await Promise.allSettled([
      api.get("/auth/me"),
      api.get(`/teams/${teamId}`),
      api.get("/dispatches?limit=200"),
      api.get("/allocations?limit=200"),
      materialsCache.length ? Promise.resolve(null) : api.get("/materials"),
    ]);
    if (!state.user) return;
    if (me.status === "fulfilled") {
      state.user = me.value;
      api.saveSession(api.getToken(), me.value);
    }
    if (team.status === "fulfilled") setTeam(team.value);
    if (dispatches.status === "fulfilled") for (const d of dispatches.value.items ?? []) mergeDispatch(d);
    if (allocations.status === "fulfilled") for (const a of allocations.value.items ?? []) mergeAllocation(a);
    if (materials.status === "fulfilled" && materials.value) {
      materialsCache = materials.value.items ?? [];
      setMaterials(materialsCache);
    }
    if (dispatches.status === "fulfilled") {
      fresh();
      checkNew();
    }
    saveCache();
    render();
  } finally {
    state.loading = false;
  }
}

async function fetchDispatch(id, minPosition = null) {
  try {
    const q = minPosition ? `?min_position=${minPosition}` : "";
    mergeDispatch(await api.get(`/dispatches/${id}${q}`));
  } catch (e) {
    if (e.status === 404 || e.status === 403) state.dispatches.delete(id);
  }
  saveCache();
  scheduleRender();
}

async function fetchAllocation(id, minPosition = null) {
  try {
    const q = minPosition ? `?min_position=${minPosition}` : "";
    mergeAllocation(await api.get(`/allocations/${id}${q}`));
  } catch (e) {
    if (e.status === 404 || e.status === 403) state.allocations.delete(id);
  }
  saveCache();
  scheduleRender();
}

// ------------------------------------------------------------------ live feed

function startLive() {
  state.live?.stop();
  state.live = liveBoard({
    model: () => state.model,
    clock,
    onSnapshot: (f) => {
      const b = f.board ?? {};
      setTeam((b.team ?? []).find((x) => x.id === state.user?.team_id));
      const liveIds = new Set((b.dispatch ?? []).map((d) => d.id));
      for (const d of b.dispatch ?? []) mergeDispatch(d);
      for (const a of b.allocation ?? []) mergeAllocation(a);
      // Active ones we hold that left the board while we were away: fetch how they ended.
      for (const d of state.dispatches.values()) if (ACTIVE.has(d.status) && !liveIds.has(d.id)) fetchDispatch(d.id);
      const liveAllocs = new Set((b.allocation ?? []).map((a) => a.id));
      for (const a of state.allocations.values()) if (ALLOC_OPEN.has(a.status) && !liveAllocs.has(a.id)) fetchAllocation(a.id);
      fresh();
      checkNew();
      saveCache();
      scheduleRender();
    },
    onDelta: (f, applied) => {
      if (!applied) return;
      for (const ch of f.changes ?? []) {
        if (ch.kind === "dispatch") {
          if (ch.doc) mergeDispatch(ch.doc);
          else if (state.dispatches.has(ch.id)) fetchDispatch(ch.id); // left the board: completed, declined or cancelled
        } else if (ch.kind === "allocation") {
          if (ch.doc) mergeAllocation(ch.doc);
          else if (state.allocations.has(ch.id)) fetchAllocation(ch.id);
        } else if (ch.kind === "team" && ch.id === state.user?.team_id && ch.doc) {
          setTeam(ch.doc);
        }
      }
      fresh();
      checkNew();
      saveCache();
      scheduleRender();
    },
    onHeartbeat: (f) => {
      state.model.advance(f.position);
      fresh();
    },
    onState: (s, info) => {
      const was = state.conn;
      state.conn = s;
      state.connInfo = info;
      if (s === "online" && was !== "online") outbox.nudge(); // the way to the server is open again
      renderConn();
    },
    onAuthError: () => signOut(t("login.expired")),
    poll: () => {
      if (Date.now() - state.pollAt > POLL_EVERY_MS) loadAll();
    },
  });
}

function serverNow() {
  return clock.now();
}

function fresh() {
  state.syncedAt = serverNow();
}

// ------------------------------------------------------------------ new dispatch alert

function checkNew() {
  let changed = false;
  for (const d of state.dispatches.values()) {
    if (d.status !== "ordered" || state.seen.has(d.id)) continue;
    state.seen.add(d.id);
    changed = true;
    if (!outbox.pendingFor("dispatch", d.id).length) alertNew(d);
  }
  if (changed && state.user) writeJson(`${SEEN_KEY}.${state.user.username}`, [...state.seen].slice(-300));
}

function alertNew(d) {
  state.bannerId = d.id;
  state.alerts += 1;
  beep();
  try {
    navigator.vibrate?.([400, 150, 400, 150, 400]);
  } catch {
    /* not allowed without a user gesture in some browsers */
  }
  renderBanner();
}

let audioCtx = null;
function unlockAudio() {
  try {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    audioCtx ??= new AC();
    if (audioCtx.state === "suspended") audioCtx.resume().catch(() => {});
  } catch {
    /* no audio */
  }
}

/** Three loud two-tone beeps from an oscillator: no audio file to download on a weak network. */
function beep() {
  try {
    if (!audioCtx) unlockAudio();
    if (!audioCtx || audioCtx.state !== "running") return;
    const t0 = audioCtx.currentTime + 0.02;
    for (let i = 0; i < 6; i++) {
      const start = t0 + i * 0.22;
      const osc = audioCtx.createOscillator();
      const gain = audioCtx.createGain();
      osc.type = "square";
      osc.frequency.value = i % 2 ? 700 : 1050;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.35, start + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.19);
      osc.connect(gain).connect(audioCtx.destination);
      osc.start(start);
      osc.stop(start + 0.2);
    }
  } catch {
    /* sound is a nicety */
  }
}

function onBannerClick(e) {
  const id = state.bannerId;
  state.bannerId = null;
  renderBanner();
  if (e.target.closest("#new-banner-close")) return;
  document.getElementById(`d-${id}`)?.scrollIntoView({ behavior: "smooth", block: "start" });
}

// ------------------------------------------------------------------ taps

function onMainClick(e) {
  const b = e.target.closest("[data-action]");
  if (!b || b.disabled) return;
  const { action, id } = b.dataset;
  if (action === "dismiss-notice") {
    state.notices = state.notices.filter((n) => n.key !== b.dataset.key);
    writeJson(`${NOTICE_KEY}.${state.user.username}`, state.notices);
    renderNotices();
    return;
  }
  if (action === "duty") {
    openSheet("duty", state.user.team_id);
    return;
  }
  if (Date.now() < state.cooldownUntil) return; // the second tap of a double tap
  if (action === "deliver" || action === "return") {
    openSheet(action, id);
    return;
  }
  if (!STEPS[action]) return;
  if (action === "decline" || action === "complete") {
    openSheet(action, id);
    return;
  }
  tapDispatch(id, action, null);
}

/** Queue one step of a dispatch (if it still applies to what the phone shows) and show it at once. */
function tapDispatch(id, action, body) {
  const d = state.dispatches.get(id);
  if (!d) return false;
  const v = dispatchView(d);
  const step = STEPS[action];
  if (!step.from.includes(v.status)) return false;
  state.cooldownUntil = Date.now() + COOLDOWN_MS;
  outbox.enqueue({
    path: `/dispatches/${id}/${action}`, body, kind: "dispatch", id, action, target: step.target,
    meta: { title: d.incident_title, at: new Date(serverNow()).toISOString() },
  });
  if (state.bannerId === id) state.bannerId = null;
  try {
    navigator.vibrate?.(40);
  } catch {
    /* ignore */
  }
  render();
  setTimeout(render, COOLDOWN_MS + 30);
  return true;
}

function tapDeliver(id, receivedBy) {
  const a = state.allocations.get(id);
  if (!a || allocationView(a).status !== "shipped") return false;
  state.cooldownUntil = Date.now() + COOLDOWN_MS;
  outbox.enqueue({
    path: `/allocations/${id}/deliver`, body: { received_by: receivedBy }, kind: "allocation", id, action: "deliver",
    target: "delivered", meta: { title: a.incident_title },
  });
  render();
  setTimeout(render, COOLDOWN_MS + 30);
  return true;
}

/** What of a delivered allocation is still with the team (delivered, not yet returned), material by material. */
function outstanding(a) {
  return Object.fromEntries(Object.entries(a.lines || {}).map(([code, n]) => [code, n - (a.returned?.[code] || 0)]).filter(([, n]) => n > 0));
}

/** 退回: what the team did not use goes back to the warehouse (through the outbox, like every tap). */
function tapReturn(id, lines, note) {
  const a = state.allocations.get(id);
  if (!a || a.status !== "delivered" || outbox.pendingFor("allocation", id).length) return false;
  state.cooldownUntil = Date.now() + COOLDOWN_MS;
  outbox.enqueue({
    path: `/allocations/${id}/return`, body: { lines, note }, kind: "allocation", id, action: "return",
    target: "returned", meta: { title: a.incident_title },
  });
  render();
  setTimeout(render, COOLDOWN_MS + 30);
  return true;
}

function tapDuty(onDuty) {
  const id = state.user.team_id;
  outbox.enqueue({
    path: `/teams/${id}/duty`, body: { on_duty: onDuty }, kind: "team", id, action: onDuty ? "on_duty" : "off_duty",
    target: onDuty ? "on_duty" : "off_duty", meta: { title: state.team?.name ?? "" },
  });
  render();
}

/** The outbox asks after a 409 invalid_transition: is what the tap wanted already the case? */
async function isReached(item) {
  try {
    if (item.kind === "dispatch") {
      const d = await api.get(`/dispatches/${item.id}`);
      mergeDispatch(d);
      return reached(d.status, item.target);
    }
    if (item.kind === "allocation") {
      const a = await api.get(`/allocations/${item.id}`);
      mergeAllocation(a);
      if (item.action === "return") return a.status === "returned";
      return a.status === "delivered" || (a.status === "returned" && !!a.delivered_at);
    }
    if (item.kind === "team") {
      const tm = await api.get(`/teams/${item.id}`);
      setTeam(tm);
      return tm.on_duty === item.body?.on_duty;
    }
  } catch (e) {
    if (e.status === 0 || e.status >= 500 || e.status === 401) throw e; // cannot tell now: ask again later
    return false;
  }
  return false;
}

function reached(status, target) {
  if (status === target) return true;
  const a = FLOW.indexOf(status);
  const b = FLOW.indexOf(target);
  return a >= 0 && b >= 0 && a >= b;
}

function settled(item, outcome) {
  const name = actionName(item.action);
  if (outcome.ok) {
    if (item.kind !== "team") {
      state.confirmed.set(item.id, { target: item.target, at: item.meta?.at || item.queued_at, until: Date.now() + CONFIRMED_HOLD_MS });
    }
    const pos = outcome.answer?.position ?? null;
    if (item.kind === "dispatch") fetchDispatch(item.id, pos);
    else if (item.kind === "allocation") fetchAllocation(item.id, pos);
    else if (item.kind === "team") api.get(`/teams/${item.id}${pos ? `?min_position=${pos}` : ""}`).then(setTeam).then(() => scheduleRender()).catch(() => {});
    toast(t(outcome.already ? "field.toast.already" : "field.toast.synced", { action: name }));
  } else {
    const code = outcome.problem?.code || `http_${outcome.status}`;
    state.notices = [
      ...state.notices,
      { key: item.key, action: item.action, title: item.meta?.title ?? "", code, detail: outcome.problem?.detail ?? "", at: new Date().toISOString() },
    ].slice(-10);
    writeJson(`${NOTICE_KEY}.${state.user?.username}`, state.notices);
    if (item.kind === "dispatch") fetchDispatch(item.id);
    else if (item.kind === "allocation") fetchAllocation(item.id);
    else loadAll();
  }
  scheduleRender();
}

// ------------------------------------------------------------------ sheets (decline, complete, deliver, duty)

function openSheet(kind, id) {
  const dlg = $("#sheet");
  state.sheet = { kind, id };
  const body = $("#sheet-body");
  const submit = $("#sheet-submit");
  submit.className = "btn btn-xl btn-primary";
  $("#sheet-error").hidden = true;
  const d = state.dispatches.get(id);
  if (kind === "decline") {
    $("#sheet-title").textContent = t("field.sheet.decline");
    const reasons = [1, 2, 3, 4].map((i) => t(`field.reason.${i}`));
    body.innerHTML = `
      <p class="sheet-lead">${esc(d?.incident_title ?? "")}</p>
      <div class="chips">${reasons.map((r) => `<button type="button" class="chip" data-reason="${esc(r)}">${esc(r)}</button>`).join("")}</div>
      <label class="field-label"><span>${esc(t("field.sheet.reason"))} <em class="req">*</em></span>
        <textarea name="reason" rows="3" maxlength="2000" required placeholder="${esc(t("field.sheet.reasonHint"))}"></textarea></label>`;
    submit.textContent = t("field.sheet.declineSubmit");
    submit.className = "btn btn-xl btn-danger";
  } else if (kind === "complete") {
    $("#sheet-title").textContent = t("field.sheet.complete");
    body.innerHTML = `
      <p class="sheet-lead">${esc(d?.incident_title ?? "")}</p>
      <label class="field-label"><span>${esc(t("field.sheet.note"))}</span>
        <textarea name="note" rows="3" maxlength="2000" placeholder="${esc(t("field.sheet.noteHint"))}"></textarea></label>`;
    submit.textContent = t("field.sheet.completeSubmit");
  } else if (kind === "deliver") {
    const a = state.allocations.get(id);
    $("#sheet-title").textContent = t("field.sheet.deliver");
    body.innerHTML = `
      <p class="sheet-lead">${esc(a?.warehouse_name ?? "")} → ${esc(a?.destination ?? "")}</p>
      ${linesHtml(a?.lines ?? {})}
      <label class="field-label"><span>${esc(t("field.sheet.receivedBy"))}</span>
        <input name="received_by" maxlength="100" value="${esc(state.user?.display_name ?? "")}"></label>`;
    submit.textContent = t("field.deliver");
  } else if (kind === "return") {
    const a = state.allocations.get(id);
    $("#sheet-title").textContent = t("field.sheet.return");
    body.innerHTML = `
      <p class="sheet-lead">${esc(a?.destination ?? "")} → ${esc(a?.warehouse_name ?? "")}</p>
      ${Object.entries(outstanding(a ?? {})).map(([code, n]) => `<label class="field-label"><span>${esc(materialName(code))}（${esc(t("field.sheet.returnOut", { n, unit: materialUnit(code) }))}）</span>
        <input type="number" name="${esc(code)}" data-line min="0" max="${n}" step="1" value="${n}" required inputmode="numeric"></label>`).join("")}
      <label class="field-label"><span>${esc(t("field.sheet.note"))}</span>
        <textarea name="note" rows="2" maxlength="2000"></textarea></label>`;
    submit.textContent = t("field.return");
  } else if (kind === "duty") {
    const on = state.team?.on_duty !== false;
    $("#sheet-title").textContent = t(on ? "field.sheet.offDuty" : "field.sheet.onDuty");
    body.innerHTML = `<p class="sheet-lead">${esc(t(on ? "field.sheet.offDutyText" : "field.sheet.onDutyText"))}</p>`;
    submit.textContent = t("field.sheet.confirm");
    state.sheet.onDuty = !on;
  }
  if (!dlg.open) dlg.showModal();
  const first = body.querySelector("textarea");
  if (first && kind === "decline") first.focus();
}

function closeSheet() {
  const dlg = $("#sheet");
  if (dlg?.open) dlg.close();
  state.sheet = null;
}

function onSheetSubmit(e) {
  e.preventDefault();
  const s = state.sheet;
  if (!s) return;
  const err = $("#sheet-error");
  let ok = true;
  if (s.kind === "decline") {
    const reason = $("#sheet-body textarea[name=reason]").value.trim();
    if (!reason) {
      err.hidden = false;
      err.textContent = t("field.sheet.reasonRequired");
      return;
    }
    ok = tapDispatch(s.id, "decline", { reason });
  } else if (s.kind === "complete") {
    const note = $("#sheet-body textarea[name=note]").value.trim();
    ok = tapDispatch(s.id, "complete", note ? { note } : null);
  } else if (s.kind === "deliver") {
    ok = tapDeliver(s.id, $("#sheet-body input[name=received_by]").value.trim());
  } else if (s.kind === "return") {
    const inputs = [...document.querySelectorAll("#sheet-body input[data-line]")];
    const bad = inputs.find((el) => !el.checkValidity());
    const lines = Object.fromEntries(inputs.map((el) => [el.name, Number(el.value)]).filter(([, n]) => n > 0));
    if (bad || !Object.keys(lines).length) {
      err.hidden = false;
      err.textContent = bad ? `${bad.closest("label").querySelector("span").textContent}：${bad.validationMessage}` : t("field.sheet.returnNothing");
      return;
    }
    ok = tapReturn(s.id, lines, $("#sheet-body textarea[name=note]").value.trim());
  } else if (s.kind === "duty") {
    tapDuty(s.onDuty);
  }
  if (!ok) toast(label("errorCode", "invalid_transition"));
  closeSheet();
}

// ------------------------------------------------------------------ views with the outbox applied

/** The dispatch as the phone should show it: queued taps applied, marked as not yet confirmed. */
function dispatchView(d) {
  const pending = outbox.pendingFor("dispatch", d.id);
  const v = { ...d, syncing: false, optimistic: {} };
  if (TERMINAL.has(d.status)) {
    v.syncing = pending.length > 0;
    return v;
  }
  for (const it of pending) {
    v.status = it.target;
    v.optimistic[STAMP[it.target]] = it.meta?.at || it.queued_at; // the tap's time by the server's clock
  }
  const conf = state.confirmed.get(d.id);
  if (conf) {
    if (reached(d.status, conf.target) || d.status === conf.target || Date.now() > conf.until) state.confirmed.delete(d.id);
    else if (!pending.length) {
      v.status = conf.target;
      v.optimistic[STAMP[conf.target]] = conf.at;
    }
  }
  v.syncing = pending.length > 0 || (state.confirmed.has(d.id) && v.status !== d.status);
  return v;
}

function allocationView(a) {
  const pending = outbox.pendingFor("allocation", a.id);
  const v = { ...a, syncing: pending.length > 0 };
  if (pending.length && a.status === "shipped") v.status = "delivered";
  const conf = state.confirmed.get(a.id);
  if (conf && !pending.length) {
    if (a.status !== "shipped" || Date.now() > conf.until) state.confirmed.delete(a.id);
    else {
      v.status = "delivered";
      v.syncing = true;
    }
  }
  return v;
}

function endOf(d) {
  return parseIso(d.completed_at || d.declined_at || d.cancelled_at || d.optimistic?.completed_at || d.optimistic?.declined_at || d.updated_at) || 0;
}

// ------------------------------------------------------------------ rendering

function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  setTimeout(() => {
    state.renderQueued = false;
    render();
  }, 0);
}

function render() {
  if ($("#app").hidden || !state.user) return;
  const views = [...state.dispatches.values()].map(dispatchView);
  renderHeader(views);
  renderConn();
  renderBanner();
  renderOutbox();
  renderNotices();
  renderCurrent(views);
  renderMaterials();
  renderHistory(views);
  renderFoot();
  tick();
}

function renderHeader(views) {
  const team = state.team;
  $("#team-name").textContent = team?.name || state.user?.display_name || "—";
  const busy = views.some((v) => ACTIVE.has(v.status));
  let key = "field.duty.onIdle";
  let st = "idle";
  if (team && team.on_duty === false) {
    key = "field.duty.off";
    st = "off";
  } else if (busy || (team && team.status && team.status !== "idle" && team.status !== "off_duty")) {
    key = "field.duty.onBusy";
    st = "busy";
  }
  const pendingDuty = outbox.pendingFor("team", state.user.team_id).at(-1);
  if (pendingDuty) {
    key = pendingDuty.target === "off_duty" ? "field.duty.off" : "field.duty.onIdle";
    st = pendingDuty.target === "off_duty" ? "off" : "idle";
  }
  const duty = $("#duty-state");
  duty.dataset.state = st;
  duty.textContent = t(key) + (pendingDuty ? ` · ${t("field.sync.pending")}` : "");
  const members = team?.members ? t("team.members", { n: team.members }) : "";
  $("#user-name").textContent = members;
  document.title = `${team?.name || t("app.title")} · ${t("field.subtitle")}`;
}

function connState() {
  if (navigator.onLine === false) return "offline";
  if (state.conn === "connecting") return "reconnecting";
  return state.conn;
}

function renderConn() {
  const s = connState();
  const el = $("#conn-status");
  el.dataset.state = s;
  $("#conn-label").textContent = t(`conn.${s}`);
  const bar = $("#stale-bar");
  if (bar) {
    const stale = s !== "online";
    bar.hidden = !stale;
    if (stale) {
      bar.textContent = state.syncedAt
        ? t("field.stale", { time: fmtHM(state.syncedAt) })
        : t("field.staleNever");
    }
  }
}

function renderBanner() {
  const banner = $("#new-banner");
  const d = state.bannerId ? state.dispatches.get(state.bannerId) : null;
  const show = !!d && dispatchView(d).status === "ordered";
  if (!show) state.bannerId = null;
  banner.hidden = !show;
  banner.dataset.alerts = String(state.alerts);
  if (show) {
    banner.dataset.dispatchId = d.id;
    $("#new-banner-title").textContent = `${d.exercise ? `【${label("exercise", "true")}】` : ""}${d.incident_title}${d.address ? ` · ${d.address}` : ""}`;
  }
}

function actionName(action) {
  return t(`field.action.${action}`);
}

function renderOutbox() {
  const items = outbox.items();
  const box = $("#outbox");
  box.hidden = items.length === 0;
  $("#outbox-count").textContent = t("field.outbox.count", { n: items.length });
  if (!items.length) return;
  const why = outbox.blocked;
  const secs = outbox.retryAt ? Math.max(1, Math.ceil((outbox.retryAt - Date.now()) / 1000)) : null;
  let whyText = "";
  if (outbox.sendingKey) whyText = t("field.outbox.sending");
  else if (navigator.onLine === false || why === "offline") whyText = t("field.outbox.offline");
  else if (why === "auth") whyText = t("field.outbox.auth");
  else if (why === "network" || why === "server") whyText = t(why === "network" ? "field.outbox.network" : "field.outbox.server", { s: secs ?? 1 });
  $("#outbox-why").textContent = whyText;
  $("#outbox-list").innerHTML = items
    .map((it) => {
      const stateText = outbox.isSending(it)
        ? t("field.outbox.itemSending")
        : it.last_error
          ? t("field.outbox.itemFailed", { n: it.attempts, why: label("errorCode", it.last_error) })
          : t("field.outbox.itemWaiting");
      return `<li class="outbox-item" data-key="${esc(it.key)}" data-action="${esc(it.action)}" data-testid="outbox-${esc(it.action)}">
        <span class="ob-act">${esc(actionName(it.action))}</span>
        <span class="ob-title">${esc(it.meta?.title ?? "")}</span>
        <span class="ob-time">${esc(fmtTime(it.queued_at))}</span>
        <span class="ob-state">${esc(stateText)}</span>
      </li>`;
    })
    .join("");
}

function renderNotices() {
  const box = $("#notices");
  box.hidden = state.notices.length === 0;
  box.innerHTML = state.notices
    .map((n) => {
      const why = label("errorCode", n.code);
      return `<div class="notice" role="alert" data-code="${esc(n.code)}">
        <div class="notice-text"><strong>${esc(t("field.notice.failed", { action: actionName(n.action) }))}</strong>
          <span>${esc(n.title)}</span><span class="notice-why">${esc(why && why !== n.code ? why : n.detail || n.code)}</span></div>
        <button type="button" class="notice-x" data-action="dismiss-notice" data-key="${esc(n.key)}" aria-label="${esc(t("field.gotIt"))}">×</button>
      </div>`;
    })
    .join("");
}

function levelBadge(level, withName = true) {
  if (!level) return "";
  const name = withName ? ` ${esc(label("level", level))}` : "";
  return `<span class="lv-badge lv-${esc(level)}">${esc(LEVEL_NUM[level] ?? level)}${esc(getLang() === "zh" ? "级" : "")}${name}</span>`;
}

function statusChip(status, group = "dispatchStatus") {
  return `<span class="st-chip st-${esc(status)}">${esc(label(group, status))}</span>`;
}

function syncChip(on) {
  return on ? `<span class="sync-chip" data-testid="sync-pending"><svg class="ico" aria-hidden="true"><use href="#i-sync"/></svg>${esc(t("field.sync.pending"))}</span>` : "";
}

function whoOrdered(d) {
  const by = d.ordered_by || {};
  const role = by.role ? label("role", by.role) : "";
  return [role, by.user].filter(Boolean).join(" ");
}

function linesHtml(lines) {
  const entries = Object.entries(lines || {});
  if (!entries.length) return "";
  return `<ul class="lines">${entries
    .map(([code, qty]) => `<li><span class="ln-name">${esc(materialName(code))}</span><span class="ln-qty">${esc(qty)}<small>${esc(materialUnit(code))}</small></span></li>`)
    .join("")}</ul>`;
}

function renderCurrent(views) {
  const list = views
    .filter((v) => ACTIVE.has(v.status) || v.syncing) // a step just tapped stays on top until it is confirmed
    .sort((a, b) => (parseIso(b.ordered_at) || 0) - (parseIso(a.ordered_at) || 0));
  const box = $("#current-list");
  if (!list.length) {
    const pendingDuty = outbox.pendingFor("team", state.user.team_id).at(-1);
    const off = pendingDuty ? pendingDuty.target === "off_duty" : state.team?.on_duty === false;
    const dutyBtn = state.team && !pendingDuty
      ? `<button type="button" class="btn ${off ? "btn-primary btn-xl btn-block" : "btn-secondary"} duty-btn" data-action="duty" ${command("POST /teams/{team_id}/duty")}>${esc(t(off ? "field.sheet.onDuty" : "field.sheet.offDuty"))}</button>`
      : "";
    box.innerHTML = `<div class="empty-card${off ? " is-off" : ""}" data-testid="no-dispatch">
        <div class="empty-big">${esc(t(off ? "field.empty.offDuty" : "field.empty.current"))}</div>
        <div class="empty-small">${esc(t(off ? "field.empty.offDutyHint" : "field.empty.currentHint"))}</div>
        ${dutyBtn}
      </div>`;
    return;
  }
  box.innerHTML = list.map(dispatchCard).join("");
}

function dispatchCard(v) {
  const cooling = Date.now() < state.cooldownUntil;
  const next = NEXT[v.status];
  const buttons = [];
  if (next) {
    buttons.push(`<button type="button" class="btn-act act-${next}" data-action="${next}" data-id="${esc(v.id)}" ${command(`POST /dispatches/{dispatch_id}/${next}`)}${cooling ? ' aria-disabled="true"' : ""}>
        <span class="act-main">${esc(actionName(next))}</span><span class="act-sub">${esc(t(`field.actionHint.${next}`))}</span></button>`);
  }
  if (STEPS.decline.from.includes(v.status)) {
    buttons.push(`<button type="button" class="btn-act act-decline" data-action="decline" data-id="${esc(v.id)}" ${command("POST /dispatches/{dispatch_id}/decline")}${cooling ? ' aria-disabled="true"' : ""}>
        <span class="act-main">${esc(actionName("decline"))}</span></button>`);
  }
  const steps = FLOW.map((s, i) => {
    const at = v[STAMP[s]] || v.optimistic[STAMP[s]];
    const pendingStep = !v[STAMP[s]] && v.optimistic[STAMP[s]];
    const idx = FLOW.indexOf(v.status);
    const cls = i < idx ? "done" : i === idx ? "now" : "todo";
    return `<li class="step ${cls}${pendingStep ? " unsynced" : ""}"><span class="step-dot"></span><span class="step-name">${esc(t(`field.step.${s}`))}</span><span class="step-at">${at ? esc(fmtHM(at)) : "—"}</span></li>`;
  }).join("");
  const mats = [...state.allocations.values()]
    .map(allocationView)
    .filter((a) => a.incident_id === v.incident_id && ALLOC_OPEN.has(a.status));
  const matHtml = mats.length
    ? `<div class="dcard-mat"><div class="k"><svg class="ico" aria-hidden="true"><use href="#i-truck"/></svg>${esc(t("field.onTheWay"))}</div>
        ${mats.map((a) => `<div class="mat-row">${statusChip(a.status, "allocationStatus")}${linesHtml(a.lines)}</div>`).join("")}</div>`
    : "";
  const terminal = TERMINAL.has(v.status);
  return `<article class="dcard lv-${esc(v.incident_level || "none")}${terminal ? " dcard-done" : ""}" id="d-${esc(v.id)}" data-testid="dispatch-${esc(v.id)}"
      data-status="${esc(v.status)}" data-sync="${v.syncing ? "pending" : "synced"}">
    <div class="dcard-top">${levelBadge(v.incident_level)}${v.exercise ? `<span class="drill-tag">${esc(label("exercise", "true"))}</span>` : ""}${statusChip(v.status)}${syncChip(v.syncing)}</div>
    <h3 class="dcard-title">${esc(v.incident_title || "—")}</h3>
    ${v.address ? `<div class="dcard-addr"><svg class="ico" aria-hidden="true"><use href="#i-pin"/></svg><span>${esc(v.address)}</span></div>` : ""}
    <div class="dcard-task"><div class="k">${esc(t("dispatch.task"))}</div><div class="v">${esc(v.task || "—")}</div></div>
    <div class="dcard-order"><svg class="ico" aria-hidden="true"><use href="#i-user"/></svg>
      <span>${esc(t("field.orderedBy", { who: whoOrdered(v), time: fmtHM(v.ordered_at) }))}</span></div>
    ${deadlineHtml(v)}
    <ol class="steps">${steps}</ol>
    ${matHtml}
    ${buttons.length ? `<div class="actions${cooling ? " cooling" : ""}">${buttons.join("")}</div>` : ""}
  </article>`;
}

function deadlineHtml(v) {
  if (v.status === "ordered" && v.ack_deadline) {
    return `<div class="deadline" data-deadline="${esc(v.ack_deadline)}" data-kind="ack">
      <svg class="ico" aria-hidden="true"><use href="#i-clock"/></svg>
      <span class="deadline-k">${esc(t("field.ackDeadline"))}</span>
      <span class="deadline-v" data-countdown></span>
      <span class="deadline-at">${esc(t("field.by", { time: fmtHM(v.ack_deadline) }))}</span></div>`;
  }
  if ((v.status === "acknowledged" || v.status === "departed") && v.arrive_deadline) {
    return `<div class="deadline" data-deadline="${esc(v.arrive_deadline)}" data-kind="arrive">
      <svg class="ico" aria-hidden="true"><use href="#i-clock"/></svg>
      <span class="deadline-k">${esc(t("field.arriveDeadline"))}</span>
      <span class="deadline-v" data-countdown></span>
      <span class="deadline-at">${esc(t("field.by", { time: fmtHM(v.arrive_deadline) }))}</span></div>`;
  }
  const since = v.status === "arrived" ? v.arrived_at || v.optimistic.arrived_at : v.status === "departed" ? v.departed_at || v.optimistic.departed_at : v.status === "acknowledged" ? v.acknowledged_at || v.optimistic.acknowledged_at : null;
  if (since) {
    return `<div class="deadline deadline-since" data-since="${esc(since)}">
      <svg class="ico" aria-hidden="true"><use href="#i-clock"/></svg>
      <span class="deadline-k">${esc(t(`field.since.${v.status}`))}</span>
      <span class="deadline-v" data-elapsed></span></div>`;
  }
  return "";
}

function renderMaterials() {
  const all = [...state.allocations.values()].map(allocationView);
  const open = all.filter((a) => ALLOC_OPEN.has(a.status) || a.syncing).sort((a, b) => (parseIso(b.updated_at) || 0) - (parseIso(a.updated_at) || 0));
  const done = all
    .filter((a) => !ALLOC_OPEN.has(a.status) && !a.syncing)
    .sort((a, b) => (parseIso(b.updated_at) || 0) - (parseIso(a.updated_at) || 0))
    .slice(0, 5);
  const cooling = Date.now() < state.cooldownUntil;
  const cards = open.map((a) => `<article class="acard" data-testid="allocation-${esc(a.id)}" data-status="${esc(a.status)}" data-sync="${a.syncing ? "pending" : "synced"}">
      <div class="acard-top"><svg class="ico" aria-hidden="true"><use href="#i-truck"/></svg>${statusChip(a.status, "allocationStatus")}${syncChip(a.syncing)}
        <span class="acard-time">${esc(a.shipped_at ? t("field.shippedAt", { time: fmtHM(a.shipped_at) }) : t("field.requestedAt", { time: fmtHM(a.requested_at) }))}</span></div>
      <div class="acard-route"><b>${esc(a.warehouse_name)}</b> → <b>${esc(a.destination || "—")}</b></div>
      <div class="acard-inc">${esc(a.incident_title)}</div>
      ${linesHtml(a.lines)}
      ${a.status === "shipped" ? `<div class="actions${cooling ? " cooling" : ""}"><button type="button" class="btn-act act-deliver" data-action="deliver" data-id="${esc(a.id)}" ${command("POST /allocations/{allocation_id}/deliver")}${cooling ? ' aria-disabled="true"' : ""}><span class="act-main">${esc(t("field.deliver"))}</span></button></div>` : ""}
      ${a.status === "reserved" ? `<div class="acard-wait">${esc(t("field.awaitShip"))}</div>` : ""}
      ${a.status === "delivered" && a.syncing ? `<div class="acard-wait">${esc(t(outbox.pendingFor("allocation", a.id).some((it) => it.action === "return") ? "field.returnPending" : "field.deliveredPending"))}</div>` : ""}
    </article>`);
  const doneRows = done.map((a) => `<li class="hrow" data-testid="allocation-${esc(a.id)}" data-status="${esc(a.status)}" data-sync="synced">
      <div class="hrow-top"><b>${esc(a.warehouse_name)} → ${esc(a.destination || "—")}</b>${statusChip(a.status, "allocationStatus")}</div>
      <div class="hrow-meta">${esc(Object.entries(a.lines || {}).map(([c, q]) => `${materialName(c)} ${q}${materialUnit(c)}`).join("、"))}</div>
      ${a.delivered_at ? `<div class="hrow-meta">${esc(t("field.receivedAt", { time: fmtHM(a.delivered_at), who: a.received_by || "—" }))}</div>` : ""}
      ${a.status === "delivered" && Object.keys(outstanding(a)).length ? `<div class="actions${cooling ? " cooling" : ""}"><button type="button" class="btn btn-secondary" data-action="return" data-id="${esc(a.id)}" ${command("POST /allocations/{allocation_id}/return")}${cooling ? ' aria-disabled="true"' : ""}>${esc(t("field.return"))}</button></div>` : ""}
    </li>`);
  $("#materials-list").innerHTML =
    (cards.length ? cards.join("") : `<div class="empty-line">${esc(t("field.empty.materials"))}</div>`) +
    (doneRows.length ? `<ol class="history-list compact">${doneRows.join("")}</ol>` : "");
}

function renderHistory(views) {
  const list = views
    .filter((v) => TERMINAL.has(v.status) && !v.syncing)
    .sort((a, b) => endOf(b) - endOf(a))
    .slice(0, HISTORY_MAX);
  $("#history-list").innerHTML = list.length
    ? list
        .map((v) => {
          const end = v[STAMP[v.status]];
          const took = end && v.ordered_at ? fmtDuration(parseIso(end) - parseIso(v.ordered_at)) : "";
          return `<li class="hrow" data-testid="history-${esc(v.id)}" data-status="${esc(v.status)}">
            <div class="hrow-top">${levelBadge(v.incident_level, false)}<b class="hrow-title">${esc(v.incident_title)}</b>${statusChip(v.status)}</div>
            <div class="hrow-meta">${esc(t("field.history.span", { from: fmtHM(v.ordered_at), to: end ? fmtHM(end) : "—", status: label("dispatchStatus", v.status) }))}${took ? ` · ${esc(t("field.history.took", { d: took }))}` : ""}</div>
            ${v.task ? `<div class="hrow-meta">${esc(v.task)}</div>` : ""}
            ${v.reason ? `<div class="hrow-reason">${esc(t("field.history.reason", { reason: v.reason }))}</div>` : ""}
          </li>`;
        })
        .join("")
    : `<li class="empty-line">${esc(t("field.empty.history"))}</li>`;
}

function renderFoot() {
  const u = state.user;
  $("#foot-info").innerHTML = `<div>${esc(t("field.signedInAs", { name: u.display_name || u.username, user: u.username }))}</div>
    <div class="foot-sync">${esc(state.syncedAt ? t("field.syncedAt", { time: fmtTime(state.syncedAt) }) : "")}</div>`;
}

/** Every second: countdowns, elapsed times and the outbox's retry clock. */
function tick() {
  if ($("#app").hidden) return;
  const now = serverNow();
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const left = parseIso(el.dataset.deadline) - now;
    const v = el.querySelector("[data-countdown]");
    const over = left < 0;
    el.classList.toggle("overdue", over);
    el.classList.toggle("soon", !over && left < 5 * 60_000);
    if (v) v.textContent = over ? t("field.overdueBy", { t: fmtCountdown(left) }) : t("field.remaining", { t: fmtCountdown(left) });
    el.closest(".dcard")?.classList.toggle("is-overdue", over);
  }
  for (const el of document.querySelectorAll("[data-since]")) {
    const v = el.querySelector("[data-elapsed]");
    if (v) v.textContent = fmtCountdown(now - parseIso(el.dataset.since));
  }
  if (outbox.retryAt && !$("#outbox").hidden) renderOutbox();
  if (!document.querySelector("#stale-bar")?.hidden) renderConn();
}

let toastTimer = null;
function toast(text) {
  if (!text) return;
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 3000);
}

init();
