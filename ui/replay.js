// The after-action replay: the board as it was at any log position (GET /replay/board), scrubbed on a
// timeline of the whole log (GET /events) or of one incident (its after-action timeline), stepped or
// played at 1×/10×/60×/600× of the real time between events, with the event list kept in step.
// Drawing reuses the live board's modules: the map (map.js), the board model and its derivation of
// alerts at a moment (board-model.js), labels (i18n.js), times (format.js), sign-in and REST (api.js).
import * as api from "./api.js";
import { BoardModel } from "./board-model.js";
import { esc, fmtDateTime, fmtDuration, fmtHM, fmtNumber, fmtTime, LEVEL_NUM, parseIso, shanghai } from "./format.js";
import { getLang, label, materialName, materialUnit, onLangChange, setMaterials, t } from "./i18n.js";
import {
  alertKey, boardContext, PLAIN_VIEW, renderAlerts, renderAllocations, renderDangers, renderDispatches, renderIncidents, renderKpis,
  renderMapPanel, renderStreets, renderTeams, renderWarehouses, renderWarnings, showDistrictName, tickCountdowns,
} from "./panels.js";
import { renderUser as showUser, showClock, startSession } from "./shell.js";
import { can, INCIDENT_OPEN, SITUATION_FIELDS } from "./vocab.js";

const TYPE_PREFIX = "cn.gov.yingji.";
const SPEEDS = [1, 10, 60, 600];
const IDLE_CAP_MS = 8000; // a gap between two events never takes longer than this to play, whatever the speed
const PAGE = 200; // events per GET /events page
const LIST_BEFORE = 30; // event rows shown before and after the current one (whole-log mode)
const LIST_AFTER = 30;
const SCRUB_DEBOUNCE_MS = 150;
const BOARD_CACHE_MAX = 60;
const PAGE_CACHE_MAX = 60;
const HEAD_POLL_MS = 15_000;
const PLAY_FRAME_MS = 50;
const TICKS = 7;

const SITUATION = SITUATION_FIELDS;
const STATUS_OF_EVENT = {
  "incident.reported": "reported", "incident.verified": "verified", "incident.controlled": "controlled",
  "incident.closed": "closed", "incident.dismissed": "dismissed",
};

const $ = (sel) => document.querySelector(sel);
let session = null; // the shell's sign-in and sign-out (ui/shell.js)
const state = {
  user: null,
  mode: "log", // "log": the whole log, index = log position; "incident": index = step of the incident's timeline
  index: 0,
  head: 0,
  // whole-log mode
  pages: new Map(), // page number → normalised events
  pageLoads: new Map(), // page number → promise
  times: new Map(), // position → {iso, ms}
  timeLoads: new Map(),
  eventsForbidden: false,
  ticks: [],
  // incident mode
  incidentId: null,
  report: null,
  steps: [], // normalised after-action timeline rows
  stepPos: new Map(), // step → the log position its board came back at
  incidents: [],
  // names of things, from the events and boards seen: id → {kind, name, ...}; unit code → name
  names: new Map(),
  unitNames: new Map(),
  // boards
  model: new BoardModel(),
  boards: new Map(), // key → board (LRU)
  board: null,
  boardKey: null,
  inflight: null,
  scrubTimer: null,
  mapDirty: true,
  alertKey: "",
  // playback
  playing: false,
  speed: 60,
  vnow: null, // the replayed moment (ms); between two events while playing
  lastFrame: 0,
  compressedGap: null,
  waiting: false,
  error: "",
};

// ------------------------------------------------------------------ start-up and session

function init() {
  try {
    const saved = Number(localStorage.getItem("yingji.replay.speed"));
    if (SPEEDS.includes(saved)) state.speed = saved;
  } catch {
    /* first visit */
  }
  $("#speed-select").value = String(state.speed);
  $("#scope-select").addEventListener("change", onScope);
  $("#report-btn").addEventListener("click", openPrintable);

  const slider = $("#replay-slider");
  slider.addEventListener("input", () => {
    pause();
    goTo(Number(slider.value), { debounce: true });
  });
  slider.addEventListener("change", () => {
    pause();
    goTo(Number(slider.value));
  });
  $("#step-back").addEventListener("click", () => step(-1));
  $("#step-fwd").addEventListener("click", () => step(1));
  $("#to-start").addEventListener("click", () => {
    pause();
    goTo(1);
  });
  $("#to-end").addEventListener("click", () => {
    pause();
    goTo(lastIndex());
  });
  $("#play-btn").addEventListener("click", () => (state.playing ? pause() : play()));
  $("#speed-select").addEventListener("change", (e) => {
    state.speed = Number(e.target.value) || 1;
    try {
      localStorage.setItem("yingji.replay.speed", String(state.speed));
    } catch {
      /* not important */
    }
    renderPlayState();
  });
  $("#event-list").addEventListener("click", (e) => {
    const row = e.target.closest("[data-index]");
    if (!row) return;
    pause();
    goTo(Number(row.dataset.index));
  });
  document.addEventListener("keydown", onKey);
  new ResizeObserver(() => {
    state.mapDirty = true;
    if (state.board) renderMapPanel(context());
  }).observe($("#map-box"));
  onLangChange(() => {
    state.mapDirty = true;
    renderUser();
    renderScopeOptions();
    renderTicks();
    renderPlayState();
    renderReadout();
    renderEventList();
    renderAll();
  });
  setInterval(tick, 250);
  setInterval(pollHead, HEAD_POLL_MS);
  session = startSession({ onStart: () => start(), onSignOut: clearReplay });
}

function signOut(message = "") {
  session.signOut(message);
}

/** Signed out: playing stops and the page forgets the boards and events it fetched. */
function clearReplay() {
  pause();
  state.user = null;
  state.board = null;
  state.boards.clear();
  state.pages.clear();
  state.times.clear();
}

async function start() {
  state.user = api.getUser();
  if (state.user && !can(state.user.role, "GET /replay/board")) {
    signOut(t("replay.forbidden"));
    return;
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  renderUser();
  renderPlayState();
  api.get("/auth/me").then((u) => {
    state.user = u;
    api.saveSession(api.getToken(), u);
    renderUser();
  }).catch(() => {});
  api.get("/materials").then((res) => {
    setMaterials(res.items || []);
    if (state.board) renderAll();
  }).catch(() => {});
  loadIncidents();
  try {
    await refreshHead();
  } catch (ex) {
    if (ex.status === 403) return signOut(t("replay.forbidden"));
    return showError(ex);
  }
  await probeEvents();
  const want = parseHash();
  if (want.incident) {
    await enterIncident(want.incident, want.step || 1);
  } else {
    enterLog(want.p || state.head);
  }
}

function parseHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  return { p: parseInt(h.get("p"), 10) || 0, incident: h.get("incident") || null, step: parseInt(h.get("step"), 10) || 0 };
}

function writeHash() {
  const h = state.mode === "incident" ? `#incident=${encodeURIComponent(state.incidentId)}&step=${state.index}` : `#p=${state.index}`;
  if (location.hash !== h) history.replaceState(null, "", h);
}

// ------------------------------------------------------------------ the two timelines

/** The log's last position, from the cheapest replay request (the empty board at position 0). */
async function refreshHead() {
  const b = await api.get("/replay/board?position=0");
  const grew = b.head !== state.head;
  state.head = b.head;
  return grew;
}

async function pollHead() {
  if ($("#app").hidden || document.hidden) return;
  if (document.activeElement !== $("#scope-select")) loadIncidents(); // new incidents to choose from
  if (state.mode !== "log") return;
  try {
    if (await refreshHead()) {
      renderSlider();
      renderReadout();
      computeTicks();
      renderEventList();
    }
  } catch {
    /* the next poll */
  }
}

/** Whether this role may read the event log (GET /events): asked once, so a refusal is not repeated per page. */
async function probeEvents() {
  try {
    const res = await api.get("/events?after=0&limit=1");
    for (const ev of (res.items || []).map(fromCloudEvent)) rememberTime(ev.position, ev.time);
    state.eventsForbidden = false;
  } catch (ex) {
    if (ex.status === 403) state.eventsForbidden = true;
  }
}

function enterLog(position) {
  pause();
  state.mode = "log";
  state.incidentId = null;
  state.report = null;
  state.steps = [];
  state.stepPos.clear();
  $("#scope-select").value = "";
  $("#report-btn").hidden = true;
  $("#focus").hidden = true;
  setEventsHeading("replay.events");
  computeTicks();
  goTo(Math.max(1, Math.min(position || state.head, state.head)));
}

async function enterIncident(id, stepIndex = 1) {
  pause();
  let report;
  try {
    report = await api.get(`/incidents/${encodeURIComponent(id)}/after-action`);
  } catch (ex) {
    showError(ex);
    if (state.mode !== "log" || !state.index) enterLog(state.head);
    return;
  }
  state.mode = "incident";
  state.incidentId = id;
  state.report = report;
  state.steps = (report.timeline || []).map(fromTimeline);
  state.stepPos = new Map();
  for (const s of state.steps) learn(s);
  if (report.incident?.id) state.names.set(report.incident.id, { kind: "incident", name: report.incident.title, level: report.incident.level });
  renderScopeOptions();
  $("#scope-select").value = id;
  $("#report-btn").hidden = false;
  setEventsHeading("replay.timeline");
  computeTicks();
  goTo(Math.max(1, Math.min(stepIndex, state.steps.length)));
}

function setEventsHeading(key) {
  const h = $(".p-events .panel-head h2");
  h.dataset.i18n = key;
  h.textContent = t(key);
}

async function onScope(e) {
  const id = e.target.value;
  if (!id) {
    const from = state.board?.position || state.head;
    enterLog(from);
  } else {
    await enterIncident(id, 1);
  }
}

async function loadIncidents() {
  try {
    const res = await api.get("/incidents?limit=1000");
    state.incidents = res.items || [];
    for (const i of state.incidents) state.names.set(i.id, { kind: "incident", name: i.title, level: i.level });
    renderScopeOptions();
  } catch {
    /* the list stays as it was */
  }
}

function renderScopeOptions() {
  const sel = $("#scope-select");
  const keep = state.mode === "incident" ? state.incidentId : "";
  const open = new Set(INCIDENT_OPEN);
  const list = [...state.incidents].sort((a, b) => parseIso(b.reported_at) - parseIso(a.reported_at));
  const opt = (i) => `<option value="${esc(i.id)}">${LEVEL_NUM[i.level] ?? ""} ${esc(i.title)} · ${esc(fmtHM(i.reported_at))} · ${esc(label("incidentStatus", i.status))}</option>`;
  const openOnes = list.filter((i) => open.has(i.status));
  const ended = list.filter((i) => !open.has(i.status));
  sel.innerHTML = `<option value="">${esc(t("replay.scope.all"))}</option>`
    + (openOnes.length ? `<optgroup label="${esc(t("replay.scope.open"))}">${openOnes.map(opt).join("")}</optgroup>` : "")
    + (ended.length ? `<optgroup label="${esc(t("replay.scope.ended"))}">${ended.map(opt).join("")}</optgroup>` : "");
  if (keep && !list.some((i) => i.id === keep) && state.report?.incident) {
    sel.insertAdjacentHTML("beforeend", `<option value="${esc(keep)}">${esc(state.report.incident.title)}</option>`);
  }
  sel.value = keep;
}

function lastIndex() {
  return state.mode === "incident" ? state.steps.length : state.head;
}

/** {iso, ms} of the event at `index` on the current timeline, or null while unknown. */
function timeOf(index) {
  if (state.mode === "incident") {
    const s = state.steps[index - 1];
    return s ? { iso: s.time, ms: parseIso(s.time) } : null;
  }
  return state.times.get(index) ?? null;
}

function eventAt(index) {
  if (state.mode === "incident") return state.steps[index - 1] ?? null;
  const page = state.pages.get(Math.floor((index - 1) / PAGE));
  return page?.find((e) => e.position === index) ?? null;
}

function rememberTime(position, iso) {
  if (!iso || position < 1) return;
  state.times.set(position, { iso, ms: parseIso(iso) });
}

function pageComplete(n) {
  const items = state.pages.get(n);
  return !!items && (items.length === PAGE || n * PAGE + items.length >= state.head);
}

/** One page of the log, as normalised events; pages are cached (a few hundred events each). */
function loadPage(n) {
  if (pageComplete(n)) return Promise.resolve(state.pages.get(n));
  if (state.eventsForbidden || n < 0 || n * PAGE >= state.head) return Promise.resolve(null);
  if (state.pageLoads.has(n)) return state.pageLoads.get(n);
  const p = api.get(`/events?after=${n * PAGE}&limit=${PAGE}`).then((res) => {
    const items = (res.items || []).map(fromCloudEvent);
    for (const ev of items) {
      rememberTime(ev.position, ev.time);
      learn(ev);
    }
    if (typeof res.head === "number" && res.head > state.head && state.mode === "log") {
      state.head = res.head;
      renderSlider();
    }
    state.pages.delete(n);
    state.pages.set(n, items);
    if (state.pages.size > PAGE_CACHE_MAX) state.pages.delete(state.pages.keys().next().value);
    return items;
  }).catch((ex) => {
    if (ex.status === 403) {
      state.eventsForbidden = true;
      renderEventList();
    }
    return null;
  }).finally(() => state.pageLoads.delete(n));
  state.pageLoads.set(n, p);
  return p;
}

/** Make sure the time of `position` is known: from the event log, or (without access to it) from its board. */
async function ensureTime(position) {
  if (state.mode !== "log" || position < 1 || position > state.head || state.times.has(position)) return;
  if (!state.eventsForbidden) {
    await loadPage(Math.floor((position - 1) / PAGE));
    if (state.times.has(position)) return;
  }
  if (state.timeLoads.has(position)) return state.timeLoads.get(position);
  const p = fetchBoard(`p:${position}`).then((b) => rememberTime(b.position, b.at)).catch(() => {}).finally(() => state.timeLoads.delete(position));
  state.timeLoads.set(position, p);
  return p;
}

function ensureEventsAround(index) {
  if (state.mode !== "log" || state.eventsForbidden || state.head < 1) return;
  const from = Math.max(1, index - LIST_BEFORE);
  const to = Math.min(state.head, index + Math.max(LIST_AFTER, PAGE / 2));
  for (let n = Math.floor((from - 1) / PAGE); n <= Math.floor((to - 1) / PAGE); n++) {
    if (pageComplete(n) || state.pageLoads.has(n)) continue;
    loadPage(n).then((items) => {
      if (!items || state.mode !== "log") return;
      renderEventList();
      renderReadout();
      if (state.ticks.some((p) => Math.floor((p - 1) / PAGE) === n)) renderTicks();
    });
  }
}

// ------------------------------------------------------------------ events, normalised

function fromCloudEvent(ce) {
  const type = String(ce.type || "").startsWith(TYPE_PREFIX) ? ce.type.slice(TYPE_PREFIX.length) : String(ce.type || "");
  const data = ce.data || {};
  return { position: ce.position, time: ce.time, type, kind: type.split(".")[0], subject: ce.subject, data, by: data.by || {} };
}

function fromTimeline(row, i) {
  const type = `${row.aggregate}.${String(row.event).toLowerCase()}`;
  return { step: i + 1, position: null, time: row.time, type, kind: row.aggregate, subject: row.aggregate_id, data: row.data || {}, by: row.actor || {} };
}

/** Names of things for the event list, from the events themselves. */
function learn(ev) {
  const d = ev.data;
  switch (ev.type) {
    case "unit.registered":
      state.names.set(ev.subject, { kind: "unit", name: d.name });
      if (d.code) state.unitNames.set(d.code, d.name);
      break;
    case "team.registered":
      state.names.set(ev.subject, { kind: "team", name: d.name });
      break;
    case "warehouse.registered":
      state.names.set(ev.subject, { kind: "warehouse", name: d.name });
      break;
    case "incident.reported":
      state.names.set(ev.subject, { kind: "incident", name: d.title, level: d.level });
      break;
    case "dispatch.ordered":
      state.names.set(ev.subject, { kind: "dispatch", team_id: d.team_id, incident_id: d.incident_id });
      break;
    case "allocation.requested":
      state.names.set(ev.subject, { kind: "allocation", warehouse_id: d.warehouse_id, incident_id: d.incident_id });
      break;
    case "directive.received":
      state.names.set(ev.subject, { kind: "directive", name: d.title });
      break;
    case "warning.drafted":
      state.names.set(ev.subject, { kind: "warning", name: d.headline, exercise: d.exercise });
      break;
    case "warningreceipt.delivered":
      state.names.set(ev.subject, { kind: "warningreceipt", warning_id: d.warning_id, unit_code: d.unit_code });
      break;
    default:
  }
}

/** Names from a board: what is on it at that moment. */
function learnBoard(b) {
  for (const u of b.unit ?? []) {
    state.unitNames.set(u.code, u.name);
    if (u.id) state.names.set(u.id, { kind: "unit", name: u.name });
  }
  for (const i of b.incident ?? []) state.names.set(i.id, { kind: "incident", name: i.title, level: i.level });
  for (const tm of b.team ?? []) state.names.set(tm.id, { kind: "team", name: tm.name });
  for (const w of b.warehouse ?? []) state.names.set(w.id, { kind: "warehouse", name: w.name });
  for (const dv of b.directive ?? []) state.names.set(dv.id, { kind: "directive", name: dv.title });
  for (const w of b.warning ?? []) state.names.set(w.id, { kind: "warning", name: w.headline, exercise: w.exercise });
  for (const r of b.warning_receipt ?? []) state.names.set(r.id, { kind: "warningreceipt", warning_id: r.warning_id, unit_code: r.unit_code });
  for (const d of b.dispatch ?? []) {
    state.names.set(d.id, { kind: "dispatch", team_id: d.team_id, incident_id: d.incident_id, team_name: d.team_name, incident_title: d.incident_title });
  }
  for (const a of b.allocation ?? []) {
    state.names.set(a.id, { kind: "allocation", warehouse_id: a.warehouse_id, incident_id: a.incident_id, warehouse_name: a.warehouse_name, incident_title: a.incident_title });
  }
}

const shortId = (id) => String(id ?? "").slice(0, 8);
const nameOf = (id) => state.names.get(id)?.name ?? (id ? `#${shortId(id)}` : "");
const quoted = (s) => (getLang() === "zh" ? `「${s}」` : `“${s}”`);
const unitNameOf = (code) => state.unitNames.get(code) ?? code ?? "";

function linesText(lines) {
  return Object.entries(lines || {}).map(([code, qty]) => `${materialName(code)}×${fmtNumber(qty)}${materialUnit(code)}`).join("、");
}

function dispatchName(id) {
  const d = state.names.get(id);
  if (!d) return `#${shortId(id)}`;
  const team = d.team_id ? state.names.get(d.team_id)?.name ?? d.team_name : d.team_name;
  const inc = d.incident_id ? state.names.get(d.incident_id)?.name ?? d.incident_title : d.incident_title;
  return `${team ?? "?"} → ${quoted(inc ?? "?")}`;
}

function allocationName(id) {
  const a = state.names.get(id);
  if (!a) return `#${shortId(id)}`;
  const wh = a.warehouse_id ? state.names.get(a.warehouse_id)?.name ?? a.warehouse_name : a.warehouse_name;
  const inc = a.incident_id ? state.names.get(a.incident_id)?.name ?? a.incident_title : a.incident_title;
  return `${wh ?? "?"} → ${quoted(inc ?? "?")}`;
}

/** {what, detail} of an event, for people. */
function describe(ev) {
  const d = ev.data;
  const what = label("eventType", ev.type);
  let object = "";
  const detail = [];
  const note = (k, v) => v && detail.push(t(k, { x: v }));
  switch (ev.kind) {
    case "incident":
      object = quoted(d.title ?? nameOf(ev.subject));
      if (ev.type === "incident.reported") {
        detail.push(`${label("levelShort", d.level)} · ${label("subtype", d.subtype)} · ${unitNameOf(d.unit_code)}${d.address ? ` · ${d.address}` : ""}`);
      } else if (ev.type === "incident.levelchanged") {
        detail.push(`${label("levelShort", d.previous)} → ${label("levelShort", d.level)}`);
        note("replay.ev.reason", d.reason);
      } else if (ev.type === "incident.situationupdated") {
        const figs = SITUATION.filter((k) => d.figures?.[k] != null).map((k) => `${label("situation", k)} ${d.figures[k]}`);
        if (figs.length) detail.push(figs.join(" · "));
        if (d.notes) detail.push(d.notes);
      } else if (ev.type === "incident.closed") note("replay.ev.summary", d.summary);
      else if (ev.type === "incident.dismissed") note("replay.ev.reason", d.reason);
      else if (ev.type === "incident.reportedupward") detail.push(t("replay.ev.upward", { time: fmtDateTime(d.acknowledged_at) }));
      else note("replay.ev.note", d.note);
      break;
    case "dispatch":
      if (ev.type === "dispatch.ordered") {
        object = `${nameOf(d.team_id)} → ${quoted(nameOf(d.incident_id))}`;
        if (d.task) detail.push(d.task);
        if (d.ack_deadline) detail.push(t("replay.ev.ackBy", { time: fmtTime(d.ack_deadline) }));
      } else {
        object = dispatchName(ev.subject);
        if (ev.type === "dispatch.escalated") detail.push(t("replay.ev.escalated", { reason: t(`replay.escalation.${d.reason}`), time: fmtTime(d.deadline) }));
        note("replay.ev.reason", d.reason && ev.type !== "dispatch.escalated" ? d.reason : "");
        note("replay.ev.note", d.note);
      }
      break;
    case "team":
      object = d.name ?? nameOf(ev.subject);
      if (ev.type === "team.registered") detail.push(`${label("teamKindShort", d.kind)} · ${t("team.members", { n: d.members })} · ${unitNameOf(d.unit_code)}`);
      else if (d.dispatch_id) detail.push(dispatchName(d.dispatch_id));
      break;
    case "unit":
      object = d.name ?? nameOf(ev.subject);
      if (ev.type === "unit.registered") detail.push(`${label("unitKind", d.kind)} · ${d.code}`);
      break;
    case "warehouse":
      object = d.name ?? nameOf(ev.subject);
      if (ev.type === "warehouse.minimumset") detail.push(t("replay.ev.minimum", { material: materialName(d.code), n: d.minimum }));
      else if (ev.type === "warehouse.stockcounted") detail.push(t("replay.ev.counted", { material: materialName(d.code), n: d.counted, prev: d.previous }));
      else if (d.lines) detail.push(linesText(d.lines));
      if (d.allocation_id) detail.push(allocationName(d.allocation_id));
      break;
    case "allocation":
      if (ev.type === "allocation.requested") {
        object = `${nameOf(d.warehouse_id)} → ${quoted(nameOf(d.incident_id))}`;
        detail.push(linesText(d.lines));
      } else {
        object = allocationName(ev.subject);
        if (d.lines) detail.push(linesText(d.lines));
        if (d.vehicle) detail.push(t("replay.ev.vehicle", { x: d.vehicle }));
        if (d.received_by) detail.push(t("replay.ev.receivedBy", { x: d.received_by }));
        note("replay.ev.reason", d.reason);
      }
      break;
    case "directive":
      object = quoted(d.title ?? nameOf(ev.subject));
      if (d.issuer) detail.push(d.issuer);
      note("replay.ev.note", d.note);
      break;
    case "warning": {
      const w = state.names.get(ev.subject);
      object = `${(d.exercise ?? w?.exercise) ? `【${label("exercise", "true")}】` : ""}${quoted(d.headline ?? nameOf(ev.subject))}`;
      if (ev.type === "warning.drafted") detail.push(`${label("warningLevel", d.level)} · ${label("subtype", d.subtype)} · ${(d.targets ?? []).map(unitNameOf).join("、")}`);
      if (d.message?.identifier) detail.push(d.message.identifier);
      if (d.changes) detail.push(Object.keys(d.changes).map((k) => label("warningField", k)).join("、"));
      note("replay.ev.reason", d.reason);
      break;
    }
    case "warningreceipt": {
      const r = state.names.get(ev.subject);
      object = `${unitNameOf(d.unit_code ?? r?.unit_code)} · ${quoted(nameOf(d.warning_id ?? r?.warning_id))}`;
      if (ev.type === "warningreceipt.acknowledged" && d.late) detail.push(label("receiptStatus", "late"));
      if (d.measures) detail.push(Object.entries(d.measures).map(([k, v]) => `${label("responseMeasure", k)} ${v}`).join(" · "));
      note("replay.ev.note", d.note);
      break;
    }
    default:
      object = shortId(ev.subject);
  }
  return { what: what === ev.type ? ev.type : what, object, detail: detail.filter(Boolean).join(" · ") };
}

function actorText(by) {
  if (!by || (!by.user && !by.role)) return "";
  if (by.role === "system" || by.user === "system") return t("replay.actor.system");
  const who = by.name || by.user || "";
  const role = by.role ? label("role", by.role) : "";
  return role && !who.includes(role) ? `${who}（${role}）` : who;
}

// ------------------------------------------------------------------ moving along the timeline

function step(delta) {
  pause();
  goTo(state.index + delta);
}

/** Move to `index` on the current timeline: read-out, event list and URL at once; the board after a debounce when scrubbing. */
function goTo(index, { debounce = false, fromPlay = false } = {}) {
  const last = lastIndex();
  if (last < 1) {
    state.index = 0;
    renderSlider();
    renderReadout();
    renderEventList();
    return;
  }
  const next = Math.max(1, Math.min(index, last));
  state.index = next;
  if (!fromPlay) {
    state.vnow = null; // paused at an event: the replayed moment is the event's
    state.compressedGap = null;
  }
  renderSlider();
  renderReadout();
  renderEventList();
  writeHash();
  if (state.mode === "log") {
    ensureEventsAround(next);
    if (!state.times.has(next)) ensureTime(next).then(() => state.index === next && renderReadout());
  }
  clearTimeout(state.scrubTimer);
  if (debounce) state.scrubTimer = setTimeout(loadBoard, SCRUB_DEBOUNCE_MS);
  else loadBoard();
}

function keyOf(index) {
  if (state.mode === "incident") {
    const s = state.steps[index - 1];
    return s ? `at:${s.time}` : null;
  }
  return index >= 1 ? `p:${index}` : null;
}

async function fetchBoard(key) {
  const hit = state.boards.get(key);
  if (hit) {
    state.boards.delete(key); // most recently used last
    state.boards.set(key, hit);
    return hit;
  }
  const path = key.startsWith("at:") ? `/replay/board?at=${encodeURIComponent(key.slice(3))}` : `/replay/board?position=${key.slice(2)}`;
  const b = await api.get(path);
  state.boards.set(key, b);
  if (state.boards.size > BOARD_CACHE_MAX) state.boards.delete(state.boards.keys().next().value);
  if (typeof b.head === "number" && b.head > state.head && state.mode === "log") {
    state.head = b.head;
    renderSlider();
  }
  rememberTime(b.position, b.at);
  learnBoard(b);
  return b;
}

/** Bring the board to the current index. One request at a time; when it lands the newest index is fetched next. */
async function loadBoard() {
  const key = keyOf(state.index);
  if (!key) return;
  if (state.boardKey === key && state.board) {
    markBoard(true);
    return;
  }
  markBoard(false);
  if (state.inflight) return; // its completion looks again
  state.inflight = key;
  try {
    const b = await fetchBoard(key);
    if (state.mode === "incident" && key.startsWith("at:")) {
      const s = state.steps.findIndex((x) => `at:${x.time}` === key);
      if (s >= 0) state.stepPos.set(s + 1, b.position);
    }
    showError(null);
    showBoard(b, key);
  } catch (ex) {
    if (ex.status !== 401) showError(ex);
  } finally {
    state.inflight = null;
  }
  if (keyOf(state.index) !== state.boardKey && !$("#app").hidden) loadBoard();
}

function showBoard(b, key) {
  state.board = b;
  state.boardKey = key;
  state.model.replace(b, b.position);
  state.mapDirty = true;
  renderAll();
  if (state.mode === "incident") renderEventList(); // rows learn their log positions
  markBoard(keyOf(state.index) === key);
}

function markBoard(ready) {
  const el = $("#replay-board");
  el.dataset.state = ready ? "ready" : "loading";
  el.setAttribute("aria-busy", String(!ready));
  if (state.board) el.dataset.position = String(state.board.position);
  renderPlayState();
}

// ------------------------------------------------------------------ playback

function play() {
  if (lastIndex() < 1) return;
  if (state.index >= lastIndex()) goTo(1); // from the start again
  state.playing = true;
  state.lastFrame = performance.now();
  state.vnow = timeOf(state.index)?.ms ?? null;
  clearInterval(state.playTimer);
  state.playTimer = setInterval(playFrame, PLAY_FRAME_MS);
  renderPlayState();
}

function pause() {
  if (!state.playing) return;
  state.playing = false;
  clearInterval(state.playTimer);
  state.compressedGap = null;
  state.waiting = false;
  renderPlayState();
}

/**
 * The playhead moves through replayed time at `speed` × real time. Between two events whose scaled gap
 * would take longer than IDLE_CAP_MS, it goes faster so the gap takes IDLE_CAP_MS; the page says so.
 */
function playFrame() {
  const now = performance.now();
  let budget = Math.min(now - state.lastFrame, 1000); // a sleeping tab does not leap ahead
  state.lastFrame = now;
  const last = lastIndex();
  let index = state.index;
  let moved = false;
  let guard = 0;
  state.waiting = false;
  while (budget > 0 && index < last && guard++ < 2000) {
    const cur = timeOf(index);
    const next = timeOf(index + 1);
    if (!cur || !next) {
      state.waiting = true;
      ensureTime(index + 1);
      if (!cur) ensureTime(index);
      break;
    }
    state.vnow = Math.max(state.vnow ?? cur.ms, cur.ms);
    const gap = Math.max(0, next.ms - cur.ms);
    const compressed = gap / state.speed > IDLE_CAP_MS;
    const rate = compressed ? gap / IDLE_CAP_MS : state.speed; // replayed ms per real ms
    state.compressedGap = compressed ? gap : null;
    const need = (next.ms - state.vnow) / rate;
    if (need > budget) {
      state.vnow += budget * rate;
      budget = 0;
    } else {
      budget -= Math.max(0, need);
      state.vnow = next.ms;
      index += 1;
      moved = true;
    }
  }
  if (moved) goTo(index, { fromPlay: true });
  if (index >= last) {
    state.vnow = timeOf(last)?.ms ?? state.vnow;
    pause();
  }
  if (state.mode === "log" && !state.eventsForbidden) ensureEventsAround(index); // keep times ahead loaded
  renderPlayState();
  tickClock();
}

function renderPlayState() {
  const btn = $("#play-btn");
  btn.dataset.state = state.playing ? "playing" : "paused";
  btn.querySelector(".tp-icon use").setAttribute("href", state.playing ? "#i-pause" : "#i-play");
  btn.querySelector(".tp-play-label").textContent = t(state.playing ? "replay.pause" : "replay.play");
  const last = lastIndex();
  $("#step-back").disabled = state.index <= 1;
  $("#to-start").disabled = state.index <= 1;
  $("#step-fwd").disabled = state.index >= last;
  $("#to-end").disabled = state.index >= last;
  const st = $("#play-state");
  const loading = $("#replay-board").dataset.state === "loading";
  const s = state.playing ? (state.waiting ? "waiting" : "playing") : state.index >= last && last > 0 ? "end" : loading ? "waiting" : "paused";
  st.dataset.state = s;
  st.textContent = t(`replay.state.${s}`, { speed: state.speed });
  const gapEl = $("#gap-note");
  gapEl.hidden = !(state.playing && state.compressedGap);
  if (state.playing && state.compressedGap) {
    gapEl.textContent = t("replay.gap", { real: fmtGap(state.compressedGap), shown: Math.round(IDLE_CAP_MS / 1000) });
  }
  $("#cap-note").textContent = t("replay.cap", { s: Math.round(IDLE_CAP_MS / 1000) });
}

function fmtGap(ms) {
  if (ms < 60_000) return getLang() === "zh" ? `${Math.round(ms / 1000)}秒` : `${Math.round(ms / 1000)} s`;
  return fmtDuration(ms);
}

function onKey(e) {
  if ($("#app").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
  const tag = e.target.tagName;
  if (tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && e.target.type !== "range")) return;
  if (e.target.id === "replay-slider" && (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End")) return; // the slider's own
  if (e.key === "ArrowLeft") step(-1);
  else if (e.key === "ArrowRight") step(1);
  else if (e.key === "Home") {
    pause();
    goTo(1);
  } else if (e.key === "End") {
    pause();
    goTo(lastIndex());
  } else if (e.key === " " && tag !== "BUTTON") {
    state.playing ? pause() : play();
  } else return;
  e.preventDefault();
}

// ------------------------------------------------------------------ slider, ticks and read-out

function renderSlider() {
  const s = $("#replay-slider");
  const last = lastIndex();
  s.min = "1";
  s.max = String(Math.max(1, last));
  s.disabled = last < 1;
  if (Number(s.value) !== state.index) s.value = String(state.index);
  const pct = last > 1 ? ((state.index - 1) / (last - 1)) * 100 : 100;
  s.style.setProperty("--pct", `${pct}%`);
  $("#replay-head").textContent = state.mode === "incident" ? String(state.head || "—") : String(last || "—");
}

function computeTicks() {
  const last = lastIndex();
  const n = Math.min(TICKS, last);
  const idx = [];
  for (let i = 0; i < n; i++) idx.push(n === 1 ? 1 : Math.round(1 + (i * (last - 1)) / (n - 1)));
  state.ticks = [...new Set(idx)];
  renderTicks();
  renderMarkers();
  if (state.mode === "log") {
    for (const p of state.ticks) {
      if (state.times.has(p)) continue;
      const load = state.eventsForbidden ? ensureTime(p) : api.get(`/events?after=${p - 1}&limit=1`).then((res) => {
        const ev = res.items?.[0];
        if (ev) rememberTime(ev.position, ev.time);
      }).catch(() => ensureTime(p));
      load.then(renderTicks);
    }
  }
}

function renderTicks() {
  const last = lastIndex();
  const times = state.ticks.map((i) => timeOf(i)?.ms).filter((ms) => ms != null);
  const days = new Set(times.map((ms) => { const p = shanghai(ms); return `${p.y}${p.mo}${p.d}`; }));
  $("#tp-ticks").innerHTML = state.ticks.map((i) => {
    const pct = last > 1 ? ((i - 1) / (last - 1)) * 100 : 0;
    const tm = timeOf(i);
    let text = "…";
    if (tm) {
      const p = shanghai(tm.ms);
      text = days.size > 1 ? `${p.mo}-${p.d} ${p.h}:${p.mi}` : `${p.h}:${p.mi}:${p.s}`;
    }
    const sub = state.mode === "incident" ? `${i}` : `#${i}`;
    return `<span class="tick" style="left:${pct}%"><b>${esc(text)}</b><small>${esc(sub)}</small></span>`;
  }).join("");
}

/** In incident mode each step is a mark on the rail, coloured by what it concerns. */
function renderMarkers() {
  const box = $("#tp-markers");
  if (state.mode !== "incident") {
    box.innerHTML = "";
    return;
  }
  const last = state.steps.length;
  box.innerHTML = state.steps.map((s, i) => {
    const pct = last > 1 ? (i / (last - 1)) * 100 : 0;
    return `<i class="mk k-${esc(s.kind)}" style="left:${pct}%" title="${esc(label("eventType", s.type))}"></i>`;
  }).join("");
}

function renderReadout() {
  const last = lastIndex();
  const tm = timeOf(state.index);
  const pos = state.mode === "incident" ? state.stepPos.get(state.index) ?? state.board?.position : state.index;
  $("#replay-position").textContent = last < 1 ? "—" : String(pos ?? "…");
  $("#replay-time").textContent = tm ? fmtDateTime(tm.ms) : last < 1 ? "—" : "…";
  const stepEl = $("#replay-step");
  stepEl.hidden = state.mode !== "incident";
  if (state.mode === "incident") stepEl.textContent = t("replay.step", { i: state.index, n: last });
  renderPlayState();
  tickClock();
}

// ------------------------------------------------------------------ the event list

function renderEventList() {
  const list = $("#event-list");
  const last = lastIndex();
  if (state.mode === "log" && state.eventsForbidden) {
    list.innerHTML = `<div class="ev-note">${esc(t("replay.eventsForbidden"))}</div>`;
    $("#event-range").textContent = "";
    return;
  }
  if (last < 1) {
    list.innerHTML = `<div class="empty">${esc(t("replay.noEvents"))}</div>`;
    return;
  }
  const from = state.mode === "incident" ? 1 : Math.max(1, state.index - LIST_BEFORE);
  const to = state.mode === "incident" ? last : Math.min(last, state.index + LIST_AFTER);
  $("#event-range").textContent = t("replay.range", { from, to, n: last });
  const rows = [];
  let prevDay = null;
  for (let i = from; i <= to; i++) {
    const ev = eventAt(i);
    const cls = i === state.index ? " current" : i > state.index ? " future" : "";
    const position = state.mode === "incident" ? state.stepPos.get(i) : i;
    const posAttr = position != null ? ` data-position="${position}"` : "";
    if (!ev) {
      rows.push(`<div class="ev pending${cls}" data-index="${i}"${posAttr} role="option" aria-selected="${i === state.index}"><span class="ev-pos">#${i}</span><span class="ev-time">…</span></div>`);
      continue;
    }
    const ms = parseIso(ev.time);
    const p = shanghai(ms);
    const day = `${p.y}-${p.mo}-${p.d}`;
    if (day !== prevDay && (prevDay !== null || i === from)) {
      rows.push(`<div class="ev-day">${esc(day)} ${esc(t("time.weekday", { d: label("weekday", p.wd) }))}</div>`);
    }
    prevDay = day;
    const { what, object, detail } = describe(ev);
    const actor = actorText(ev.by);
    const tag = state.mode === "incident" ? `${i}` : `#${i}`;
    rows.push(`<div class="ev k-${esc(ev.kind)}${cls}" data-index="${i}"${posAttr} data-type="${esc(ev.type)}" role="option" aria-selected="${i === state.index}" tabindex="-1">
      <span class="ev-pos" title="${esc(position != null ? `${t("replay.position")} ${position}` : "")}">${esc(tag)}</span>
      <span class="ev-time">${esc(`${p.h}:${p.mi}:${p.s}`)}</span>
      <div class="ev-main">
        <div class="ev-title"><span class="ev-kind">${esc(label("eventKind", ev.kind))}</span><b>${esc(what)}</b> <span class="ev-obj">${esc(object)}</span></div>
        ${detail || actor ? `<div class="ev-sub">${detail ? `<span class="ev-detail">${esc(detail)}</span>` : ""}${actor ? `<span class="ev-actor"><svg class="ico"><use href="#i-user"/></svg>${esc(actor)}</span>` : ""}</div>` : ""}
      </div>
    </div>`);
  }
  list.innerHTML = rows.join("");
  const cur = list.querySelector(".ev.current");
  if (cur) list.scrollTop = Math.max(0, cur.offsetTop - list.clientHeight / 2 + cur.offsetHeight / 2);
  renderFocus();
}

// ------------------------------------------------------------------ incident mode: the incident in focus

function statusAtStep(index) {
  let status = null;
  for (let i = 0; i < index && i < state.steps.length; i++) {
    const s = state.steps[i];
    if (s.subject === state.incidentId && STATUS_OF_EVENT[s.type]) status = STATUS_OF_EVENT[s.type];
  }
  return status;
}

function renderFocus() {
  const box = $("#focus");
  if (state.mode !== "incident" || !state.report) {
    box.hidden = true;
    return;
  }
  const inc = state.report.incident || {};
  const f = state.report.figures || {};
  const onBoard = state.board?.incident?.find((i) => i.id === state.incidentId);
  const status = onBoard?.status ?? statusAtStep(state.index);
  const level = onBoard?.level ?? inc.level;
  const mins = (v) => (v == null ? "—" : t("replay.minutes", { n: Math.round(v * 10) / 10 }));
  const upward = f.reported_upward_at
    ? `${fmtHM(f.reported_upward_at)} ${t(f.upward_report_within_2h ? "replay.focus.upwardOk" : "replay.focus.upwardLate")}`
    : t("replay.focus.upwardNone");
  const statusHtml = status
    ? `<span class="chip st-${esc(status)}">${esc(label("incidentStatus", status))}</span>`
    : `<span class="chip st-none">${esc(t("replay.notYet"))}</span>`;
  const off = status && !onBoard && state.board ? `<div class="focus-off">${esc(t("replay.notOnBoard", { status: label("incidentStatus", status) }))}</div>` : "";
  const dispatches = (state.report.dispatches || []).slice(0, 6).map((d) => {
    const outcome = d.outcome === "active" ? t("replay.focus.active") : label("dispatchStatus", d.outcome);
    return `<div class="focus-d"><span class="focus-team" title="${esc(d.task ?? "")}">${esc(nameOf(d.team_id))}</span>
      <span>${esc(t("replay.focus.ack"))} <b>${esc(mins(d.minutes_to_acknowledge))}</b> · ${esc(t("replay.focus.arrive"))} <b>${esc(mins(d.minutes_to_arrive))}</b></span>
      <span class="chip ts-${esc(d.outcome === "active" ? "acknowledged" : d.outcome)}">${esc(outcome)}</span></div>`;
  }).join("");
  box.hidden = false;
  box.innerHTML = `<div class="focus-card lv-${esc(level)}">
    <div class="focus-top"><span class="lv-badge">${LEVEL_NUM[level] ?? esc(level ?? "")}</span><b class="focus-title" title="${esc(inc.title)}">${esc(inc.title ?? "")}</b>${statusHtml}</div>
    <div class="focus-meta">${esc(label("category", inc.category))} · ${esc(label("subtype", inc.subtype))} · ${esc(unitNameOf(inc.unit_code))}${inc.address ? ` · ${esc(inc.address)}` : ""} · ${esc(t("incident.occurred"))} ${esc(fmtDateTime(inc.occurred_at))}</div>
    <div class="focus-figs">
      <div><small>${esc(t("replay.focus.occToReport"))}</small><b>${esc(mins(f.minutes_occurrence_to_report))}</b></div>
      <div><small>${esc(t("replay.focus.reportToVerify"))}</small><b>${esc(mins(f.minutes_report_to_verification))}</b></div>
      <div><small>${esc(t("replay.focus.reportToDispatch"))}</small><b>${esc(mins(f.minutes_report_to_first_dispatch))}</b></div>
      <div><small>${esc(t("replay.focus.upward"))}</small><b>${esc(upward)}</b></div>
    </div>
    ${dispatches ? `<div class="focus-ds">${dispatches}</div>` : ""}
    <div class="focus-note">${esc(t("replay.focus.final"))}</div>${off}
  </div>`;
}

/** The printable after-action report needs the bearer token, so it is fetched and shown from a blob. */
async function openPrintable() {
  if (!state.incidentId) return;
  const win = window.open("", "_blank");
  try {
    const res = await fetch(`${api.API}/incidents/${encodeURIComponent(state.incidentId)}/after-action?format=html`, {
      headers: { Authorization: `Bearer ${api.getToken()}` }, cache: "no-store",
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const url = URL.createObjectURL(new Blob([await res.text()], { type: "text/html;charset=utf-8" }));
    if (win) win.location.href = url;
    else window.open(url, "_blank");
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (ex) {
    win?.close();
    showError({ heading: t("replay.printFailed"), detail: ex.message });
  }
}

// ------------------------------------------------------------------ the board as it was

/** The replayed moment: between events while playing, else the time of the event at the index. */
function replayNow() {
  if (state.vnow != null) return state.vnow;
  const tm = timeOf(state.index);
  if (tm) return tm.ms;
  return state.board ? parseIso(state.board.at) : Date.now();
}

function context() {
  const now = replayNow();
  return boardContext(state.model.toBoard(now), now); // alerts and street counts as they stood at that moment
}

function renderAll() {
  if ($("#app").hidden || !state.board) return;
  const ctx = context();
  renderDistrict(ctx);
  const view = replayView();
  renderKpis(ctx);
  renderIncidents(ctx, view);
  renderDispatches(ctx, view);
  renderWarnings(ctx, view);
  renderAlerts(ctx, view);
  renderTeams(ctx, view);
  renderDangers(ctx);
  renderStreets(ctx, { link: false }); // as they stood: the readiness page shows today's
  renderAllocations(ctx, view);
  renderWarehouses(ctx, view);
  if (state.mapDirty) {
    renderMapPanel(ctx, view.selectedId);
    state.mapDirty = false;
  }
  renderStamp();
  renderFocus();
  renderReadout();
  revealTouched();
  state.alertKey = alertKey(ctx.board.alerts);
}

/** Scroll each panel so that what the current event changed (or the incident in focus) is in sight. */
function revealTouched() {
  for (const id of ["#incident-list", "#dispatch-list", "#team-list", "#allocation-list", "#warehouse-list"]) {
    const box = $(id);
    const el = box.querySelector(".is-touched") ?? (id === "#incident-list" ? box.querySelector(".incident.selected") : null);
    if (!el) continue;
    const c = box.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.top < c.top) box.scrollTop += r.top - c.top - 6;
    else if (r.bottom > c.bottom) box.scrollTop += Math.min(r.bottom - c.bottom + 6, r.top - c.top - 6);
  }
}

function renderDistrict(ctx) {
  const d = ctx.board.unit.find((u) => u.kind === "district");
  if (!d) return;
  showDistrictName(d.name);
  document.title = `${d.name} · ${t("replay.subtitle")}`;
}

function renderUser() {
  showUser(state.user);
  $("#report-btn").title = t("replay.printTitle");
}

function showError(ex) {
  const el = $("#replay-error");
  if (!ex) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  el.textContent = t("replay.loadFailed", { detail: `${ex.heading ?? ""}${ex.detail ? ` — ${ex.detail}` : ""}` || ex.message });
}

function renderStamp() {
  const b = state.board;
  $("#map-stamp").innerHTML = b
    ? `<span class="rec-dot"></span>${esc(t("replay.boardAt", { p: b.position }))}<b>${esc(fmtDateTime(replayNow()))}</b>`
    : "";
}

/** " is-touched" for what the current event changed (its updated_at is the event's time). */
/** How replay draws the shared panels: what the current event changed is marked, nothing can be acted on. */
function replayView() {
  return { ...PLAIN_VIEW, mark: touched, selectedId: state.mode === "incident" ? state.incidentId : null, stockRows: 2 };
}

function touched(doc) {
  return state.board?.at && doc.updated_at === state.board.at ? " is-touched" : "";
}

// ------------------------------------------------------------------ the replayed clock

function tickClock() {
  const last = lastIndex();
  if (last < 1 && !state.board) return;
  showClock(replayNow());
}

/** Ages, countdowns and alerts follow the replayed moment (which moves between events while playing). */
function tick() {
  if ($("#app").hidden || !state.board) return;
  tickClock();
  if (!state.playing) return;
  const now = replayNow();
  const ctx = context();
  if (alertKey(ctx.board.alerts) !== state.alertKey) {
    renderAll();
    return;
  }
  tickCountdowns(now);
  renderStamp();
}

init();
