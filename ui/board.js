// The operator command board: sign-in, the live board (WebSocket with HTTP fallback), panels,
// the schematic map and the command dialogs.
import * as api from "./api.js";
import { BoardModel, derive, streetOf } from "./board-model.js";
import {
  esc, fmtDateTime, fmtHM, fmtTime, fromLocalInput, LEVEL_NUM, parseIso, toLocalInput,
} from "./format.js";
import {
  label, materialList, materialName, materialUnit, onLangChange, setMaterials, t,
} from "./i18n.js";
import {
  can, command, DISMISSABLE, known, DISPATCH_NEXT_STEP, DISPATCH_STEPS as STEP_RULES, INCIDENT_OPEN, LEVELS, RESPONSE_MEASURES,
  SITUATION_FIELDS, SUBTYPES, WARNING_LEVELS,
} from "./vocab.js";
import {
  alertKey, boardContext, levelSort, linesHtml, renderAlerts, renderAllocations, renderDangers, renderDispatches, renderIncidents, renderKpis,
  renderMapPanel, renderStreets, renderTeams, renderWarehouses, renderWarnings, tickCountdowns, unitName, unitPath, warningLevelText,
  noticesHtml,
} from "./panels.js";
import { liveBoard, rememberDistrictName, renderUser as showUser, ServerClock, showClock, showDistrictName, startSession } from "./shell.js";

// Which page action calls which route: who may take it is the server's table (vocab.js PERMISSIONS).
const ROUTE_OF = {
  report: "POST /incidents",
  respond: "POST /incidents/{incident_id}/dispatches", // verify, dispatch, allocate: the desk
  command: "POST /incidents/{incident_id}/close", // control, close: the commander
  ackDirective: "POST /directives/{directive_id}/acknowledge",
  situation: "POST /incidents/{incident_id}/situation",
  level: "POST /incidents/{incident_id}/level",
  dismiss: "POST /incidents/{incident_id}/dismiss",
  shipAllocation: "POST /allocations/{allocation_id}/ship",
  cancelAllocation: "POST /allocations/{allocation_id}/cancel",
  draftWarning: "POST /warnings",
  issueWarning: "POST /warnings/{warning_id}/issue",
  updateWarning: "POST /warnings/{warning_id}/update",
  liftWarning: "POST /warnings/{warning_id}/lift",
  signWarning: "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge",
  respondWarning: "POST /warnings/{warning_id}/receipts/{unit_code}/response",
  reports: "GET /disaster-reports", // the desk pages: disaster reports, roster and handover
  duty: "GET /handovers",
  people: "GET /people", // the contact directory (phones are personal data: the desks and observers only)
  // each control under an incident, a dispatch, an allocation or a team: the route its dialog calls
  verify: "POST /incidents/{incident_id}/verify",
  dispatch: "POST /incidents/{incident_id}/dispatches",
  allocate: "POST /allocations",
  control: "POST /incidents/{incident_id}/control",
  close: "POST /incidents/{incident_id}/close",
  acknowledge: "POST /dispatches/{dispatch_id}/acknowledge",
  depart: "POST /dispatches/{dispatch_id}/depart",
  arrive: "POST /dispatches/{dispatch_id}/arrive",
  complete: "POST /dispatches/{dispatch_id}/complete",
  decline: "POST /dispatches/{dispatch_id}/decline",
  cancel: "POST /dispatches/{dispatch_id}/cancel",
  deliverAllocation: "POST /allocations/{allocation_id}/deliver",
  teamDuty: "POST /teams/{team_id}/duty",
};
// The header's buttons and the route each opens a dialog for.
const HEADER_COMMANDS = { "#report-btn": "report", "#dispatch-btn": "dispatch", "#allocate-btn": "allocate", "#warning-btn": "draftWarning" };
const NEW_FOR_MS = 8000;
const POLL_EVERY_MS = 5000;

const $ = (sel) => document.querySelector(sel);
const clock = new ServerClock();
let session = null; // the shell's sign-in and sign-out (ui/shell.js)
const state = {
  model: new BoardModel(),
  board: null,
  user: null,
  live: null,
  conn: "reconnecting",
  connInfo: {},
  selectedId: null,
  pendingSelect: null,
  behindSince: null,
  expandedWh: new Set(),
  seenIncidents: null,
  newIncidents: new Map(),
  alertKey: "",
  lastFreshAt: null,
  mapDirty: true,
  pollAt: 0,
  polling: false,
  renderQueued: false,
};

function may(what) {
  return !!state.user && can(state.user.role, ROUTE_OF[what]);
}

// ------------------------------------------------------------------ start-up and session

function init() {
  $("#report-btn").addEventListener("click", () => openReport());
  $("#dispatch-btn").addEventListener("click", () => openDispatch(state.selectedId));
  $("#allocate-btn").addEventListener("click", () => openAllocate(state.selectedId));
  $("#incident-list").addEventListener("click", onIncidentClick);
  $("#allocation-list").addEventListener("click", onAllocationClick);
  $("#dispatch-list").addEventListener("click", onDispatchClick);
  $("#team-list").addEventListener("click", onTeamClick);
  // The pages menu closes on a click elsewhere or Escape (focus back on its button).
  document.addEventListener("click", (e) => {
    const menu = $("#pages-menu");
    if (menu.open && !menu.contains(e.target)) menu.open = false;
  });
  document.addEventListener("keydown", (e) => {
    const menu = $("#pages-menu");
    if (e.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  $("#warning-btn").addEventListener("click", () => openWarningDraft());
  $("#warning-list").addEventListener("click", onWarningClick);
  $("#map").addEventListener("click", onMapClick);
  $("#map").addEventListener("keydown", (e) => {
    if (e.key === "Enter") onMapClick(e);
  });
  $("#warehouse-list").addEventListener("click", (e) => {
    const b = e.target.closest("[data-wh-toggle]");
    if (!b) return;
    const id = b.dataset.whToggle;
    if (state.expandedWh.has(id)) state.expandedWh.delete(id);
    else state.expandedWh.add(id);
    scheduleRender();
  });
  $("#alert-list").addEventListener("click", (e) => {
    const b = e.target.closest("[data-directive]");
    if (b) openDirective(b.dataset.directive);
  });
  $("#cmd-close").addEventListener("click", () => $("#cmd-dialog").close());
  $("#cmd-cancel").addEventListener("click", () => $("#cmd-dialog").close());
  new ResizeObserver(() => {
    state.mapDirty = true;
    scheduleRender();
  }).observe($("#map-box"));
  onLangChange(() => {
    state.mapDirty = true;
    renderUser();
    renderDuty();
    renderAll();
    tick();
  });
  window.addEventListener("online", () => state.live?.restart());

  session = startSession({ onStart: () => startBoard(), onSignOut: clearBoard });
  setInterval(tick, 1000);
  tick();
  startAutoScroll();
}

function signOut(message = "") {
  session.signOut(message);
}

/** Signed out: the socket closes and the page forgets the board it held. */
function clearBoard() {
  state.live?.stop();
  state.live = null;
  state.user = null;
  state.duty = null;
  clearTimeout(state.dutyTimer);
  state.model = new BoardModel();
  state.board = null;
  state.seenIncidents = null;
  state.selectedId = null;
  const dlg = $("#cmd-dialog");
  if (dlg.open) dlg.close();
}

async function startBoard() {
  state.user = api.getUser();
  $("#login").hidden = true;
  $("#app").hidden = false;
  renderUser();
  renderConn();
  state.mapDirty = true;
  loadMaterials();
  api.get("/auth/me").then((u) => {
    state.user = u;
    api.saveSession(api.getToken(), u);
    renderUser();
    scheduleRender();
  }).catch(() => {});
  startLive();
  pollBoard(true); // a first picture at once, even before the socket speaks
  loadDutyNow();
}

/** Who is on duty now at the viewer's desk (值班表), in the header; asked again every minute (shifts turn at 08:30). */
async function loadDutyNow() {
  clearTimeout(state.dutyTimer);
  if (!state.user) return;
  try {
    state.duty = await api.get("/roster/now");
  } catch {
    state.duty = null;
  }
  renderDuty();
  state.dutyTimer = setTimeout(loadDutyNow, 60_000);
}

function renderDuty() {
  const box = $("#duty-now");
  const d = state.duty;
  box.hidden = !d;
  if (!d) return;
  const who = d.scheduled
    ? `${label("dutyRole", "leader")} ${d.leader.name} · ${label("dutyRole", "officer")} ${d.officers.map((o) => o.name).join("、")}`
    : t("duty.none");
  box.innerHTML = `<span class="duty-label">${esc(t("duty.now"))}</span><span id="duty-names" class="duty-names">${esc(who)}</span>`;
}

async function loadMaterials() {
  try {
    const res = await api.get("/materials");
    setMaterials(res.items || []);
    scheduleRender();
  } catch {
    /* names fall back to codes */
  }
}

function startLive() {
  state.live?.stop();
  state.live = liveBoard({
    model: () => state.model,
    clock,
    onSnapshot: () => {
      fresh();
      scheduleRender(true);
    },
    onDelta: (f, applied) => {
      if (applied) scheduleRender(true);
      fresh();
    },
    onHeartbeat: (f) => {
      if (typeof f.position === "number" && state.model.position !== null && f.position < state.model.position) {
        // The server is behind what we hold. A moment's lag is normal; if it lasts, its log was
        // replaced (a restored store?): start over from a snapshot.
        state.behindSince ??= Date.now();
        if (Date.now() - state.behindSince > 25_000) {
          state.behindSince = null;
          state.model.position = null;
          state.live.restart();
        }
        fresh();
        return;
      }
      state.behindSince = null;
      state.model.advance(f.position);
      fresh();
      renderConn();
    },
    onRelay: (f) => {
      state.model.setRelay(f.relay);
      state.model.advance(f.position);
      fresh();
      scheduleRender();
    },
    onState: (s, info) => {
      state.conn = s;
      state.connInfo = info;
      renderConn();
    },
    onAuthError: () => signOut(t("login.expired")),
    poll: () => pollBoard(),
    pollAfter: 2,
  });
}

function serverNow() {
  return clock.now();
}

function fresh() {
  state.lastFreshAt = serverNow();
}

/** GET /board: the first picture, and the fallback while the socket is down. */
async function pollBoard(force = false, minPosition = null) {
  const now = Date.now();
  if (state.polling || (!force && now - state.pollAt < POLL_EVERY_MS)) return;
  state.polling = true;
  state.pollAt = now;
  try {
    const b = await api.get(minPosition ? `/board?min_position=${minPosition}` : "/board");
    if (!api.getToken()) return;
    clock.sync(b.at);
    if (state.model.position === null || b.position > state.model.position) {
      state.model.replace(b, b.position);
      scheduleRender(true);
    }
    if (state.conn === "online" || state.model.position === b.position) fresh();
  } catch {
    /* the socket or the next poll will do */
  } finally {
    state.polling = false;
  }
}

// ------------------------------------------------------------------ rendering

function scheduleRender(dataChanged = false) {
  if (dataChanged) state.mapDirty = true;
  if (state.renderQueued) return;
  state.renderQueued = true;
  setTimeout(() => {
    state.renderQueued = false;
    renderAll();
  }, 0);
}

function renderAll() {
  if ($("#app").hidden) return;
  const board = state.model.toBoard(serverNow());
  state.board = board;
  const ctx = boardContext(board, serverNow());
  trackNewIncidents(board.incident);
  const view = boardView();
  renderDistrict(ctx);
  renderKpis(ctx);
  renderIncidentPanel(ctx);
  renderDispatches(ctx, view);
  renderWarnings(ctx, view);
  renderAlerts(ctx, view);
  renderTeams(ctx, view);
  renderAllocations(ctx, view);
  renderWarehouses(ctx, view);
  renderStreets(ctx);
  renderDangers(ctx);
  if (state.mapDirty) {
    renderMapPanel(ctx, state.selectedId);
    state.mapDirty = false;
  }
  renderRelay(ctx);
  renderConn();
  renderCommandButtons();
  state.alertKey = alertKey(board.alerts);
}

function trackNewIncidents(incidents) {
  const now = Date.now();
  if (state.seenIncidents === null) {
    if (state.model.position === null) return;
    state.seenIncidents = new Set(incidents.map((i) => i.id));
    return;
  }
  for (const i of incidents) {
    if (!state.seenIncidents.has(i.id)) {
      state.seenIncidents.add(i.id);
      state.newIncidents.set(i.id, now);
    }
  }
  for (const [id, at] of state.newIncidents) if (now - at > NEW_FOR_MS) state.newIncidents.delete(id);
}

function renderDistrict(ctx) {
  const d = ctx.board.unit.find((u) => u.kind === "district");
  if (!d) return;
  showDistrictName(d.name);
  rememberDistrictName(d.name);
  document.title = `${d.name} · ${t("app.title")}`;
}

function renderUser() {
  showUser(state.user);
  renderCommandButtons();
}

function renderCommandButtons() {
  $("#report-btn").hidden = !may("report");
  $("#dispatch-btn").hidden = !may("respond");
  $("#allocate-btn").hidden = !may("respond");
  $("#warning-btn").hidden = !may("draftWarning");
  for (const [sel, what] of Object.entries(HEADER_COMMANDS)) $(sel).dataset.command = known(ROUTE_OF[what]);
  $("#reports-link").hidden = !may("reports");
  $("#duty-link").hidden = !may("duty");
  $("#people-link").hidden = !may("people");
}

function renderConn() {
  const el = $("#conn-status");
  const s = state.conn;
  el.dataset.state = s === "connecting" ? "reconnecting" : s;
  let text = t(`conn.${s}`);
  if ((s === "reconnecting" || s === "offline") && state.connInfo.retryAt) {
    const secs = Math.max(0, Math.ceil((state.connInfo.retryAt - Date.now()) / 1000));
    if (secs > 0) text += ` · ${t("conn.retryIn", { s: secs })}`;
  }
  $("#conn-label").textContent = text;
  $("#position").textContent = state.model.position ?? "—";
  const banner = $("#stale-banner");
  const stale = s !== "online" && s !== "connecting" && state.model.position !== null;
  banner.hidden = !stale;
  banner.classList.toggle("is-offline", s === "offline");
  $("#app").classList.toggle("is-stale", stale);
  if (stale) banner.textContent = t("conn.stale", { time: state.lastFreshAt ? fmtTime(state.lastFreshAt) : "—" });
}

function renderRelay(ctx) {
  const r = ctx.board.relay;
  const el = $("#relay-status");
  el.hidden = !r;
  if (!r) return;
  const st = r.alarm ? "alarm" : r.paused ? "paused" : r.lag_events > 0 && r.lag_seconds > 30 ? "lagging" : "ok";
  el.dataset.state = st;
  $("#relay-detail").textContent = st === "lagging" ? t("relay.lagging", { n: r.lag_events }) : t(`relay.${st}`);
  el.title = t("relay.title", { position: r.position, head: r.head }) + (r.last_error ? `\n${r.last_error}` : "");
}

function renderIncidentPanel(ctx) {
  const { board } = ctx;
  const pending = state.pendingSelect;
  if (pending) {
    if (board.incident.some((i) => i.id === pending.id)) {
      state.selectedId = pending.id;
      state.pendingSelect = null;
      state.mapDirty = true;
      state.scrollToSelected = true;
    } else if (Date.now() > pending.until) {
      state.pendingSelect = null;
    }
  }
  if (state.selectedId && !board.incident.some((i) => i.id === state.selectedId)) state.selectedId = null;
  renderIncidents(ctx, boardView());
  if (state.scrollToSelected && state.selectedId) {
    state.scrollToSelected = false;
    document.querySelector(`[data-testid="incident-${CSS.escape(state.selectedId)}"]`)?.scrollIntoView({ block: "nearest" });
  }
}

/** How the desk draws the shared panels: new incidents marked, the focused one with its actions, 签收 under directives. */
function boardView() {
  return {
    mark: (doc) => (state.newIncidents.has(doc.id) ? " is-new" : ""),
    selectedId: state.selectedId,
    detail: incidentDetail,
    alertExtra: (a) => (a.kind === "directive" && may("ackDirective")
      ? `<div class="inc-actions"><button type="button" class="btn btn-sm btn-primary" data-directive="${esc(a.directive_id)}" ${command(ROUTE_OF.ackDirective)}>${esc(t("action.ackDirective"))}</button></div>`
      : ""),
    expandedWh: state.expandedWh,
    stockRows: 3,
    toggleWh: true,
    warningActions,
    allocationActions,
    dispatchActions,
    teamActions,
  };
}

/** The desk ships reserved materials (with the vehicle) or cancels a request not yet shipped. */
const ALLOCATION_ROUTE = { ship: "shipAllocation", cancel: "cancelAllocation", deliver: "deliverAllocation" };

function allocationActions(a) {
  const actions = [];
  if (a.status === "reserved" && may("shipAllocation")) actions.push(["ship", "action.ship", "btn-primary"]);
  if (a.status === "reserved" && may("cancelAllocation")) actions.push(["cancel", "action.cancelAllocation", "btn-ghost"]);
  // The team signs on its phone; the desk records it when the team reports the receipt by radio.
  if (a.status === "shipped" && may("deliverAllocation")) actions.push(["deliver", "action.deliver", "btn-primary"]);
  return actions.length ? `<div class="inc-actions">${actions.map(([act, k, cls]) =>
    `<button type="button" class="btn btn-sm ${cls}" data-allocation-action="${act}" data-id="${esc(a.id)}" data-testid="allocation-${act}-${esc(a.id)}" ${command(ROUTE_OF[ALLOCATION_ROUTE[act]])}>${esc(t(k))}</button>`).join("")}</div>` : "";
}

/** A dispatch's next step, decline and cancel at the desk: the team's steps, recorded when it reports them by radio. */
function dispatchActions(d) {
  const steps = [DISPATCH_NEXT_STEP[d.status], "decline", "cancel"].filter((s) => s && STEP_RULES[s]?.from.includes(d.status) && may(s));
  return steps.length ? `<div class="inc-actions">${steps.map((s, k) =>
    `<button type="button" class="btn btn-sm ${k === 0 && s !== "decline" && s !== "cancel" ? "btn-primary" : "btn-ghost"}" data-dispatch-action="${s}" data-id="${esc(d.id)}" data-testid="dispatch-${s}-${esc(d.id)}" ${command(ROUTE_OF[s])}>${esc(t(`dstep.${s}`))}</button>`).join("")}</div>` : "";
}

/** A team idle or off duty is put on or off duty from the desk. */
function teamActions(tm) {
  if (!may("teamDuty") || (tm.status !== "idle" && tm.status !== "off_duty")) return "";
  const on = tm.status === "off_duty";
  return `<button type="button" class="btn btn-sm btn-ghost team-duty" data-team-duty="${on ? "on" : "off"}" data-id="${esc(tm.id)}" data-testid="team-duty-${esc(tm.id)}" ${command(ROUTE_OF.teamDuty)}>${esc(t(on ? "action.onDuty" : "action.offDuty"))}</button>`;
}

function onDispatchClick(e) {
  const btn = e.target.closest("[data-dispatch-action]");
  if (!btn) return;
  const d = state.board?.dispatch.find((x) => x.id === btn.dataset.id);
  if (!d) return;
  const step = btn.dataset.dispatchAction;
  const field = { complete: "note", decline: "reason", cancel: "reason" }[step];
  openDialog({
    name: `dispatch-${step}`,
    title: `${t(`dstep.${step}`)} · ${d.team_name}`,
    success: t("toast.stepRecorded"),
    html: `<div class="incident-ref"><b>${esc(d.incident_title)}</b><div>${esc(d.team_name)} · ${esc(label("dispatchStatus", d.status))}</div></div>
      ${field ? `<label class="wide"><span class="${field === "reason" ? "req" : ""}">${esc(t(field === "reason" ? "form.reason" : "form.note"))}</span>
        <textarea name="${field}" rows="3" maxlength="2000" ${field === "reason" ? "required" : ""}></textarea></label>` : ""}`,
    collect(form) {
      const text = field ? String(new FormData(form).get(field) || "").trim() : "";
      return { path: `/dispatches/${encodeURIComponent(d.id)}/${step}`, body: field ? { [field]: text } : {} };
    },
  });
}

function onTeamClick(e) {
  const btn = e.target.closest("[data-team-duty]");
  if (!btn) return;
  const tm = state.board?.team.find((x) => x.id === btn.dataset.id);
  if (!tm) return;
  const on = btn.dataset.teamDuty === "on";
  openDialog({
    name: "team-duty",
    title: `${t(on ? "action.onDuty" : "action.offDuty")} · ${tm.name}`,
    success: t("toast.stepRecorded"),
    html: `<div class="incident-ref"><b>${esc(tm.name)}</b><div>${esc(label("teamStatus", tm.status))}</div></div>`,
    collect: () => ({ path: `/teams/${encodeURIComponent(tm.id)}/duty`, body: { on_duty: on } }),
  });
}

function onAllocationClick(e) {
  const btn = e.target.closest("[data-allocation-action]");
  if (!btn) return;
  const a = state.board?.allocation.find((x) => x.id === btn.dataset.id);
  if (!a) return;
  if (btn.dataset.allocationAction === "deliver") {
    openDialog({
      name: "deliver",
      title: t("action.deliver"),
      success: t("toast.stepRecorded"),
      html: `<div class="incident-ref"><b>${esc(a.incident_title)}</b><div class="alloc-lines">${linesHtml(a.lines)}</div></div>
        <label class="wide"><span>${esc(t("form.receivedBy"))}</span><input name="received_by" maxlength="100" autocomplete="off"></label>`,
      collect: (form) => ({ path: `/allocations/${encodeURIComponent(a.id)}/deliver`,
        body: { received_by: String(new FormData(form).get("received_by") || "").trim() } }),
    });
    return;
  }
  const ship = btn.dataset.allocationAction === "ship";
  openDialog({
    name: ship ? "ship" : "cancelAllocation",
    title: t(ship ? "form.ship.title" : "form.cancelAllocation.title"),
    success: t(ship ? "toast.shipped" : "toast.allocationCancelled"),
    html: `<div class="incident-ref"><b>${esc(a.incident_title)}</b><div>${esc(a.warehouse_name)} ➜ ${esc(a.destination || "")}</div>
        <div class="alloc-lines">${linesHtml(a.lines)}</div></div>
      ${ship ? `<label class="wide"><span>${esc(t("form.vehicle"))}</span><input name="vehicle" maxlength="100" autocomplete="off"></label>`
        : `<label class="wide"><span class="req">${esc(t("form.reason"))}</span><textarea name="reason" rows="3" maxlength="2000" required></textarea></label>`}`,
    collect(form) {
      const f = new FormData(form);
      const path = `/allocations/${encodeURIComponent(a.id)}/${ship ? "ship" : "cancel"}`;
      return { path, body: ship ? { vehicle: String(f.get("vehicle") || "").trim() } : { reason: String(f.get("reason") || "").trim() } };
    },
  });
}

const WARNING_ROUTE = { issue: "issueWarning", update: "updateWarning", lift: "liftWarning", sign: "signWarning", respond: "respondWarning" };

/** The desk's controls under a warning: the commander issues a draft, updates or lifts one in force; a street desk signs
 * for its own copy, then reports what it did (响应措施). */
function warningActions(w, receipts) {
  const actions = [];
  const inForce = w.status === "issued" && parseIso(w.expires) > serverNow();
  if (w.status === "draft" && may("issueWarning")) actions.push(["issue", "action.issueWarning", "btn-primary"]);
  if (inForce && may("updateWarning")) actions.push(["update", "action.updateWarning", ""]);
  if (w.status === "issued" && may("liftWarning")) actions.push(["lift", "action.liftWarning", ""]);
  const mine = receipts.find((r) => r.unit_code === state.user?.unit_code);
  if (mine && !mine.signed_at && may("signWarning")) actions.push(["sign", "action.signWarning", "btn-primary"]);
  if (mine?.signed_at && may("respondWarning")) actions.push(["respond", "action.respondWarning", ""]);
  const cap = w.status !== "draft"
    ? `<button type="button" class="btn btn-sm btn-ghost" data-warning-action="cap" data-id="${esc(w.id)}">${esc(t("action.capDoc"))}</button>` : "";
  if (!actions.length && !cap) return "";
  return `<div class="inc-actions">${actions.map(([a, k, cls]) => `<button type="button" class="btn btn-sm ${cls}" data-warning-action="${a}" data-id="${esc(w.id)}" data-testid="warning-${a}-${esc(w.id)}" ${command(ROUTE_OF[WARNING_ROUTE[a]])}>${esc(t(k))}</button>`).join("")}${cap}</div>`;
}

function incidentDetail(i, dispatches) {
  const actions = [];
  if (may("verify") && i.status === "reported") actions.push(["verify", "action.verify", "btn-primary"]);
  if (may("dispatch")) actions.push(["dispatch", "action.dispatchShort", ""]);
  if (may("allocate")) actions.push(["allocate", "action.allocateShort", ""]);
  if (may("control") && i.status === "verified") actions.push(["control", "action.control", ""]);
  if (may("close") && (i.status === "verified" || i.status === "controlled")) actions.push(["close", "action.close", ""]);
  if (INCIDENT_OPEN.includes(i.status)) {
    if (may("situation")) actions.push(["situation", "action.situation", ""]);
    if (may("level")) actions.push(["level", "action.level", ""]);
  }
  if (may("dismiss") && DISMISSABLE.includes(i.status)) actions.push(["dismiss", "action.dismiss", "btn-ghost"]);
  return `<div class="inc-detail">
      ${i.description ? `<div>${esc(i.description)}</div>` : ""}
      ${i.situation_notes ? `<div>📋 ${esc(i.situation_notes)}</div>` : ""}
      <div>${esc(t("incident.occurred"))} ${esc(fmtDateTime(i.occurred_at))} · ${esc(t("incident.reported"))} ${esc(fmtHM(i.reported_at))}${i.source ? ` · ${esc(i.source)}` : ""}</div>
      ${dispatches.map((d) => `<div>▸ ${esc(d.team_name)} — <span class="ts-${esc(d.status)}">${esc(label("dispatchStatus", d.status))}</span>${noticesHtml(d.notifications)}</div>`).join("")}
      ${actions.length ? `<div class="inc-actions">${actions.map(([a, k, cls]) => `<button type="button" class="btn btn-sm ${cls}" data-action="${a}" data-id="${esc(i.id)}" data-testid="${a}-${esc(i.id)}" ${command(ROUTE_OF[a])}>${esc(t(k))}</button>`).join("")}</div>` : ""}
    </div>`;
}

// ------------------------------------------------------------------ the one-second tick

function tick() {
  const now = serverNow();
  showClock(now);
  if ($("#app").hidden || !state.board) return;
  const key = alertKey(derive(state.board, now, state.board.relay).alerts);
  if (key !== state.alertKey) {
    renderAll(); // a deadline passed: alerts, KPIs and the dispatch and incident panels change
  } else {
    tickCountdowns(now);
  }
  if (state.newIncidents.size) {
    for (const [id, at] of state.newIncidents) {
      if (Date.now() - at > NEW_FOR_MS) {
        state.newIncidents.delete(id);
        document.querySelector(`[data-testid="incident-${CSS.escape(id)}"]`)?.classList.remove("is-new");
      }
    }
  }
  renderConn();
  if (state.conn !== "online" && state.model.position !== null) pollBoard();
}

// ------------------------------------------------------------------ wall-screen auto-scroll

/**
 * On a wall screen nobody scrolls: a panel whose content overflows drifts slowly down, rests at
 * the bottom, and returns to the top. Any pointer, wheel, touch or focus in a panel pauses it.
 */
const SCROLL_PANELS = ["#incident-list", "#dispatch-list", "#alert-list", "#team-list", "#allocation-list", "#warehouse-list"];
const SCROLL_REST_MS = 5000;
const SCROLL_IDLE_MS = 30000;

function startAutoScroll() {
  const panels = SCROLL_PANELS.map((sel) => ({ el: $(sel), restUntil: Date.now() + SCROLL_REST_MS, heldUntil: 0, pos: 0 }));
  for (const p of panels) {
    const hold = () => {
      p.heldUntil = Date.now() + SCROLL_IDLE_MS;
    };
    for (const ev of ["pointerenter", "pointermove", "wheel", "touchstart", "focusin", "keydown"]) p.el.addEventListener(ev, hold, { passive: true });
    p.el.addEventListener("pointerleave", () => {
      p.heldUntil = Date.now() + 3000;
    });
  }
  setInterval(() => {
    if ($("#app").hidden || document.hidden || $("#cmd-dialog").open) return;
    const now = Date.now();
    for (const p of panels) {
      const { el } = p;
      const room = el.scrollHeight - el.clientHeight;
      if (room <= 4 || now < p.heldUntil) {
        p.pos = el.scrollTop;
        continue;
      }
      if (now < p.restUntil) continue;
      if (el.scrollTop >= room - 1) {
        el.scrollTop = 0;
        p.pos = 0;
        p.restUntil = now + SCROLL_REST_MS;
        continue;
      }
      p.pos = Math.max(p.pos, el.scrollTop) + 0.6;
      el.scrollTop = p.pos;
      if (el.scrollTop >= room - 1) p.restUntil = now + SCROLL_REST_MS;
    }
  }, 50);
}

// ------------------------------------------------------------------ selection

function select(id, scroll = false) {
  state.selectedId = state.selectedId === id ? null : id;
  state.mapDirty = true;
  renderAll();
  if (scroll && state.selectedId) {
    document.querySelector(`[data-testid="incident-${CSS.escape(state.selectedId)}"]`)?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
}

function onIncidentClick(e) {
  const btn = e.target.closest("[data-action]");
  if (btn) {
    e.stopPropagation();
    const id = btn.dataset.id;
    ({ verify: () => openSimple("verify", id), control: () => openSimple("control", id), close: () => openSimple("close", id),
      dispatch: () => openDispatch(id), allocate: () => openAllocate(id), situation: () => openSituation(id),
      level: () => openLevel(id), dismiss: () => openDismiss(id) })[btn.dataset.action]?.();
    return;
  }
  const row = e.target.closest(".incident");
  if (row && !e.target.closest(".inc-detail")) select(row.dataset.id);
}

function onMapClick(e) {
  const g = e.target.closest("[data-incident]");
  if (g) select(g.dataset.incident, true);
}

// ------------------------------------------------------------------ command dialogs

let activeDialog = null;

/**
 * Open the command dialog. spec: {title, html, setup(body), collect(form) → {path, body, created?}, success, onSuccess?(answer, req)}
 * Each dialog keeps one api.Command per path, so a retry of the same body reuses its Idempotency-Key.
 */
function openDialog(spec) {
  const dlg = $("#cmd-dialog");
  const form = $("#cmd-form");
  const body = $("#cmd-body");
  const submit = $("#cmd-submit");
  const errBox = $("#cmd-error");
  $("#cmd-title").textContent = spec.title;
  body.innerHTML = spec.html;
  errBox.hidden = true;
  submit.disabled = false;
  submit.textContent = t("action.submit");
  form.id = "cmd-form";
  form.dataset.command = spec.name;
  const session = { commands: new Map(), busy: false };
  activeDialog = session;
  spec.setup?.(body);
  form.onsubmit = async (e) => {
    e.preventDefault();
    if (session.busy) return;
    if (!form.reportValidity()) return;
    let req;
    try {
      req = spec.collect(form);
    } catch (ex) {
      showFormError(ex.message);
      return;
    }
    let cmd = session.commands.get(req.path);
    if (!cmd) session.commands.set(req.path, (cmd = new api.Command(req.path)));
    session.busy = true;
    submit.disabled = true;
    submit.textContent = t("action.sending");
    errBox.hidden = true;
    try {
      const answer = await cmd.send(req.body);
      if (activeDialog === session) dlg.close();
      toast(spec.success + (answer.replayed ? ` · ${t("form.replayed")}` : ""));
      spec.onSuccess?.(answer, req);
      afterCommand(answer);
    } catch (ex) {
      if (ex.status === 401) return; // back to sign-in
      if (activeDialog !== session) {
        toast(`${ex.heading}: ${ex.detail}`, true);
        return;
      }
      const items = ex.fieldErrors ?? [];
      errBox.hidden = false;
      errBox.classList.remove("is-info");
      errBox.innerHTML = `<strong>${esc(ex.heading ?? t("err.title"))}</strong>${esc(ex.detail || ex.message)}${
        items.length ? `<ul>${items.map((m) => `<li>${esc(m)}</li>`).join("")}</ul>` : ""}${
        cmd.pending ? `<div>${esc(t("form.networkRetry"))}</div>` : ""}`;
      submit.textContent = cmd.pending ? t("action.retry") : t("action.submit");
    } finally {
      session.busy = false;
      submit.disabled = false;
      if (!cmd.pending && submit.textContent === t("action.sending")) submit.textContent = t("action.submit");
    }
  };
  if (!dlg.open) dlg.showModal();
  const first = body.querySelector("select:not([disabled]), input:not([type=radio]), textarea");
  first?.focus();

  function showFormError(msg) {
    errBox.hidden = false;
    errBox.innerHTML = `<strong>${esc(t("err.title"))}</strong>${esc(msg)}`;
  }
}

function afterCommand(answer) {
  // The socket brings the change; without it, read our own write.
  if (state.conn !== "online" && typeof answer.position === "number") pollBoard(true, answer.position);
}

function toast(text, isError = false) {
  const el = document.createElement("div");
  el.className = `toast${isError ? " err" : ""}`;
  el.textContent = text;
  $("#toasts").append(el);
  setTimeout(() => el.remove(), 5000);
}

function scopeOk(code) {
  const u = state.user;
  if (!u || u.role === "admin") return true;
  return String(code).startsWith(u.scope_prefix ?? ""); // the server's scope rule (GET /auth/me)
}

function unitOptions(selected) {
  const units = (state.board?.unit ?? []).filter((u) => scopeOk(u.code)).sort((a, b) => a.code.localeCompare(b.code));
  const tops = units.filter((u) => u.kind === "district");
  const streets = units.filter((u) => u.kind === "street" || u.kind === "cluster");
  const opt = (u) => `<option value="${esc(u.code)}"${u.code === selected ? " selected" : ""}>${esc(u.name)}（${esc(label("unitKind", u.kind))}）</option>`;
  let html = `<option value="">${esc(t("form.choose"))}</option>` + tops.map(opt).join("");
  const inStreet = new Set();
  for (const s of streets) {
    const kids = units.filter((u) => u.parent_code === s.code);
    kids.forEach((k) => inStreet.add(k.code));
    html += `<optgroup label="${esc(s.name)}">${opt(s)}${kids.map(opt).join("")}</optgroup>`;
  }
  const rest = units.filter((u) => u.kind !== "district" && u.kind !== "street" && u.kind !== "cluster" && !inStreet.has(u.code));
  html += rest.map(opt).join("");
  return html;
}

function incidentOptions(selected) {
  const list = [...(state.board?.incident ?? [])].sort(levelSort);
  return `<option value="">${esc(t("form.choose"))}</option>` + list
    .map((i) => `<option value="${esc(i.id)}"${i.id === selected ? " selected" : ""}>${LEVEL_NUM[i.level]} · ${esc(i.title)}</option>`).join("");
}

function incidentRef(i) {
  const ctx = boardContext(state.board, serverNow());
  return `<div class="incident-ref lv-${esc(i.level)}"><b>${LEVEL_NUM[i.level]} ${esc(i.title)}</b>
    <div>${esc(label("level", i.level))} · ${esc(label("category", i.category))} · ${esc(label("subtype", i.subtype))} · ${esc(unitPath(ctx, i.unit_code))} · ${esc(label("incidentStatus", i.status))}</div></div>`;
}

function findIncident(id) {
  return state.board?.incident.find((i) => i.id === id) ?? null;
}

// 上报事件
function openReport() {
  if (!state.board) return;
  const cats = Object.keys(SUBTYPES);
  const defaultUnit = state.user && state.user.unit_code && !/0{6}$/.test(state.user.unit_code) ? state.user.unit_code : "";
  openDialog({
    name: "report",
    title: t("form.report.title"),
    success: t("toast.reported"),
    html: `
      <label><span class="req">${esc(t("form.category"))}</span>
        <select name="category" required>${cats.map((c) => `<option value="${c}">${esc(label("category", c))}</option>`).join("")}</select></label>
      <label><span class="req">${esc(t("form.subtype"))}</span><select name="subtype" required></select></label>
      <div class="wide"><span class="req" style="color:var(--text-2);font-size:0.92rem">${esc(t("form.level"))}</span>
        <div class="levels">${LEVELS.map((l) => `<label class="lv-${l}"><input type="radio" name="level" value="${l}"${l === "IV" ? " checked" : ""} required><span>${LEVEL_NUM[l]} ${esc(label("level", l))}</span></label>`).join("")}</div></div>
      <label class="wide"><span class="req">${esc(t("form.title"))}</span><input name="title" required maxlength="200" autocomplete="off"></label>
      <label><span class="req">${esc(t("form.unit"))}</span><select name="unit_code" required>${unitOptions(defaultUnit)}</select></label>
      <label><span class="req">${esc(t("form.occurredAt"))}</span><input name="occurred_at" type="datetime-local" required value="${toLocalInput(serverNow())}"></label>
      <label class="wide"><span>${esc(t("form.address"))}</span><input name="address" maxlength="2000" autocomplete="off"></label>
      <label class="wide"><span>${esc(t("form.description"))}</span><textarea name="description" maxlength="2000" rows="3"></textarea></label>
      <label class="wide"><span>${esc(t("form.source"))}</span><input name="source" maxlength="200" autocomplete="off"></label>
      <label class="wide check"><input type="checkbox" name="exercise"> <span>${esc(t("incident.exercise"))}</span></label>
      <label class="wide" hidden><span>${esc(t("plans.col.plan"))}</span><select name="plan_id"><option value="">—</option></select></label>`,
    setup(body) {
      // An exercise (演练) may drill a plan: the plans in the account's scope, offered once the box is ticked.
      const drill = body.querySelector("[name=exercise]");
      const planSelect = body.querySelector("[name=plan_id]");
      drill.addEventListener("change", async () => {
        planSelect.closest("label").hidden = !drill.checked;
        if (!drill.checked || planSelect.options.length > 1) return;
        const plans = (await api.get("/plans?status=active&limit=1000").catch(() => ({ items: [] }))).items.filter((p) => p.kind !== "mechanism");
        planSelect.insertAdjacentHTML("beforeend", plans.map((p) => `<option value="${esc(p.id)}">${esc(p.title)}</option>`).join(""));
      });
      const cat = body.querySelector("[name=category]");
      const sub = body.querySelector("[name=subtype]");
      const fillSub = () => {
        sub.innerHTML = SUBTYPES[cat.value].map((s) => `<option value="${s}">${esc(label("subtype", s))}</option>`).join("");
      };
      cat.addEventListener("change", fillSub);
      fillSub();
    },
    collect(form) {
      const f = new FormData(form);
      const occurred = fromLocalInput(f.get("occurred_at"));
      if (!occurred) throw new Error(t("form.occurredAt"));
      return {
        path: "/incidents",
        body: {
          category: f.get("category"), subtype: f.get("subtype"), level: f.get("level"), title: String(f.get("title")).trim(),
          unit_code: f.get("unit_code"), address: String(f.get("address") || "").trim(), occurred_at: occurred,
          description: String(f.get("description") || "").trim(), source: String(f.get("source") || "").trim(),
          ...(f.get("exercise") === "on" ? { exercise: true, ...(f.get("plan_id") ? { plan_id: f.get("plan_id") } : {}) } : {}),
        },
      };
    },
    onSuccess(answer) {
      // Select the new incident once it is on the board (its delta may come before or after this answer).
      state.pendingSelect = { id: answer.id, until: Date.now() + 15000 };
      scheduleRender(true);
    },
  });
}

function teamOptions(incident, filter, selected = "") {
  const street = incident ? streetOf(incident.unit_code) : null;
  const ctx = boardContext(state.board, serverNow());
  const teams = (state.board?.team ?? []).filter(filter).sort((a, b) => {
    const sa = streetOf(a.unit_code) === street ? 0 : 1;
    const sb = streetOf(b.unit_code) === street ? 0 : 1;
    return sa - sb || a.unit_code.localeCompare(b.unit_code);
  });
  return teams.map((tm) => `<option value="${esc(tm.id)}"${tm.id === selected ? " selected" : ""}>${esc(tm.name)}（${esc(label("teamKindShort", tm.kind))} · ${esc(t("team.members", { n: tm.members }))} · ${esc(unitName(ctx, tm.unit_code))}）</option>`).join("");
}

// 派遣队伍
function openDispatch(incidentId) {
  if (!state.board) return;
  const fixed = findIncident(incidentId);
  const idle = (tm) => tm.status === "idle" && tm.on_duty !== false;
  const anyIdle = state.board.team.some(idle);
  openDialog({
    name: "dispatch",
    title: t("form.dispatch.title"),
    success: t("toast.dispatched"),
    html: `
      ${fixed ? incidentRef(fixed) : `<label class="wide"><span class="req">${esc(t("form.incident"))}</span><select name="incident_id" required>${incidentOptions(incidentId)}</select></label>`}
      <label class="wide"><span class="req">${esc(t("form.team"))}</span>
        <select name="team_id" required>${anyIdle ? `<option value="">${esc(t("form.choose"))}</option>${teamOptions(fixed, idle)}` : `<option value="">${esc(t("form.noIdleTeams"))}</option>`}</select></label>
      <label class="wide"><span class="req">${esc(t("form.task"))}</span><textarea name="task" required maxlength="2000" rows="3"></textarea></label>
      <label><span>${esc(t("form.ackMinutes"))}</span><input name="ack_minutes" type="number" min="1" max="1440" step="1"></label>`,
    setup(body) {
      const inc = body.querySelector("[name=incident_id]");
      inc?.addEventListener("change", () => {
        const chosen = findIncident(inc.value);
        const sel = body.querySelector("[name=team_id]");
        const keep = sel.value;
        sel.innerHTML = `<option value="">${esc(t("form.choose"))}</option>${teamOptions(chosen, idle, keep)}`;
      });
    },
    collect(form) {
      const f = new FormData(form);
      const id = fixed ? fixed.id : f.get("incident_id");
      const body = { team_id: f.get("team_id"), task: String(f.get("task")).trim() };
      const mins = f.get("ack_minutes");
      if (mins) body.ack_minutes = parseInt(mins, 10);
      return { path: `/incidents/${encodeURIComponent(id)}/dispatches`, body };
    },
  });
}

// 调拨物资
function openAllocate(incidentId) {
  if (!state.board) return;
  const fixed = findIncident(incidentId);
  const ctx = boardContext(state.board, serverNow());
  const warehouses = [...state.board.warehouse].sort((a, b) => {
    const street = fixed ? streetOf(fixed.unit_code) : null;
    return (streetOf(a.unit_code) === street ? 0 : 1) - (streetOf(b.unit_code) === street ? 0 : 1) || a.unit_code.localeCompare(b.unit_code);
  });
  const catalogue = materialList();
  openDialog({
    name: "allocate",
    title: t("form.allocate.title"),
    success: t("toast.allocated"),
    html: `
      ${fixed ? incidentRef(fixed) : `<label class="wide"><span class="req">${esc(t("form.incident"))}</span><select name="incident_id" required>${incidentOptions(incidentId)}</select></label>`}
      <label class="wide"><span class="req">${esc(t("form.warehouse"))}</span><select name="warehouse_id" required>
        <option value="">${esc(t("form.choose"))}</option>${warehouses.map((w) => `<option value="${esc(w.id)}">${esc(w.name)}（${esc(unitName(ctx, w.unit_code))}）</option>`).join("")}</select></label>
      <div class="wide"><span class="req" style="color:var(--text-2);font-size:0.92rem">${esc(t("form.materials"))}</span>
        <div class="lines" id="alloc-lines"></div>
        <button type="button" class="btn btn-sm" id="alloc-add" style="margin-top:0.4rem">＋ ${esc(t("action.addLine"))}</button></div>
      <label><span>${esc(t("form.destination"))}</span><input name="destination" maxlength="2000" value="${esc(fixed ? fixed.address || unitName(ctx, fixed.unit_code) : "")}"></label>
      <label><span>${esc(t("form.receivingTeam"))}</span><select name="team_id"><option value="">${esc(t("form.none"))}</option>${teamOptions(fixed, (tm) => !fixed || tm.incident_id === fixed.id)}</select></label>`,
    setup(body) {
      const wh = body.querySelector("[name=warehouse_id]");
      const box = body.querySelector("#alloc-lines");
      const stockOf = () => state.board.warehouse.find((w) => w.id === wh.value)?.stock ?? {};
      const options = () => {
        const stock = stockOf();
        const codes = catalogue.length ? catalogue.map((m) => m.code) : Object.keys(stock);
        return `<option value="">${esc(t("form.choose"))}</option>` + codes.map((code) => {
          const l = stock[code];
          const avail = l ? l.on_hand - l.reserved : 0;
          return `<option value="${esc(code)}"${wh.value && avail <= 0 ? " disabled" : ""}>${esc(materialName(code))}${wh.value ? ` — ${esc(t("form.availableN", { n: avail }))}${esc(materialUnit(code))}` : ""}</option>`;
        }).join("");
      };
      const addLine = () => {
        const row = document.createElement("div");
        row.className = "line-row";
        row.innerHTML = `<select name="material" aria-label="${esc(t("form.material"))}">${options()}</select>
          <input name="quantity" type="number" min="1" step="1" placeholder="${esc(t("form.quantity"))}" aria-label="${esc(t("form.quantity"))}">
          <button type="button" class="btn btn-sm btn-ghost" data-remove>${esc(t("action.removeLine"))}</button>`;
        box.append(row);
      };
      wh.addEventListener("change", () => {
        for (const sel of box.querySelectorAll("select[name=material]")) {
          const v = sel.value;
          sel.innerHTML = options();
          sel.value = v;
        }
      });
      box.addEventListener("click", (e) => {
        if (e.target.closest("[data-remove]") && box.children.length > 1) e.target.closest(".line-row").remove();
      });
      body.querySelector("#alloc-add").addEventListener("click", addLine);
      addLine();
      const inc = body.querySelector("[name=incident_id]");
      inc?.addEventListener("change", () => {
        const chosen = findIncident(inc.value);
        const dest = body.querySelector("[name=destination]");
        if (chosen && !dest.value) dest.value = chosen.address || unitName(ctx, chosen.unit_code);
      });
    },
    collect(form) {
      const f = new FormData(form);
      const id = fixed ? fixed.id : f.get("incident_id");
      const lines = {};
      for (const row of form.querySelectorAll(".line-row")) {
        const code = row.querySelector("[name=material]").value;
        const qty = parseInt(row.querySelector("[name=quantity]").value, 10);
        if (!code && !qty) continue;
        if (!code || !(qty > 0)) throw new Error(`${t("form.material")} / ${t("form.quantity")}`);
        lines[code] = (lines[code] ?? 0) + qty;
      }
      if (!Object.keys(lines).length) throw new Error(t("form.materials"));
      const body = { incident_id: id, warehouse_id: f.get("warehouse_id"), lines, destination: String(f.get("destination") || "").trim() };
      if (f.get("team_id")) body.team_id = f.get("team_id");
      return { path: "/allocations", body };
    },
  });
}

// 签收上级指令
function openDirective(directiveId) {
  const dv = (state.board?.directive ?? []).find((d) => d.id === directiveId);
  if (!dv) return;
  openDialog({
    name: "directive",
    title: t("form.directive.title"),
    success: t("toast.directiveAck"),
    html: `<div class="incident-ref" style="--lv:var(--warn)"><b>${esc(dv.title)}</b>
        <div>${esc(t("form.directive.issuer"))}：${esc(dv.issuer)}${dv.level ? ` · ${esc(dv.level)}` : ""} · ${esc(fmtDateTime(dv.issued_at))}</div>
        ${dv.content ? `<div style="margin-top:0.4rem;color:var(--text);white-space:pre-wrap">${esc(dv.content)}</div>` : ""}</div>
      <label class="wide"><span>${esc(t("form.note"))}</span><textarea name="note" rows="3" maxlength="2000"></textarea></label>`,
    collect(form) {
      return { path: `/directives/${encodeURIComponent(dv.id)}/acknowledge`, body: { note: String(new FormData(form).get("note") || "").trim() } };
    },
  });
}

// ------------------------------------------------------------------ early warnings (预警)

function findWarning(id) {
  return state.board?.warning.find((w) => w.id === id) ?? null;
}

function onWarningClick(e) {
  const btn = e.target.closest("[data-warning-action]");
  if (!btn) return;
  const w = findWarning(btn.dataset.id);
  if (!w) return;
  ({ issue: () => openWarningIssue(w), update: () => openWarningUpdate(w), lift: () => openWarningLift(w), sign: () => openWarningSign(w),
    respond: () => openWarningRespond(w),
    cap: () => openCap(w) })[btn.dataset.warningAction]?.();
}

/** The warning's latest CAP 1.2 document in a new tab (fetched with the session's token: CAP follows the scope rule). */
async function openCap(w) {
  const tab = window.open("", "_blank");
  try {
    const res = await fetch(`/api/v1/warnings/${encodeURIComponent(w.id)}/cap`, { headers: { Authorization: `Bearer ${api.getToken()}` } });
    const blob = new Blob([await res.text()], { type: "text/xml" });
    if (tab) tab.location = URL.createObjectURL(blob);
  } catch {
    tab?.close();
    toast(label("errorCode", "network"), true);
  }
}

function warningRef(w) {
  return `<div class="incident-ref wl-${esc(w.level)}" style="--lv:var(--wl-${esc(w.level)})"><b>${esc(warningLevelText(w.level))} · ${esc(w.headline)}</b>
    <div>${w.exercise ? `【${esc(label("exercise", "true"))}】` : ""}${esc(label("subtype", w.subtype))} · ${esc(fmtDateTime(w.onset))} – ${esc(fmtDateTime(w.expires))}</div>
    ${w.instruction ? `<div style="margin-top:0.3rem;white-space:pre-wrap">${esc(t("warning.instruction"))}：${esc(w.instruction)}</div>` : ""}</div>`;
}

function levelRadios(selected) {
  return `<div class="levels">${WARNING_LEVELS.map((l) => `<label class="wl-${l}"><input type="radio" name="level" value="${l}"${l === selected ? " checked" : ""} required><span>${esc(warningLevelText(l))}</span></label>`).join("")}</div>`;
}

// 拟制预警 (operators draft; the commander signs off from the panel)
function openWarningDraft() {
  if (!state.board) return;
  const cats = Object.keys(SUBTYPES);
  const now = serverNow();
  const units = (state.board.unit ?? []).filter((u) => scopeOk(u.code)).sort((a, b) => a.code.localeCompare(b.code));
  openDialog({
    name: "warning",
    title: t("form.warning.title"),
    success: t("toast.warningDrafted"),
    html: `
      <label><span class="req">${esc(t("form.category"))}</span>
        <select name="category" required>${cats.map((c) => `<option value="${c}">${esc(label("category", c))}</option>`).join("")}</select></label>
      <label><span class="req">${esc(t("form.subtype"))}</span><select name="subtype" required></select></label>
      <div class="wide"><span class="req" style="color:var(--text-2);font-size:0.92rem">${esc(label("warningField", "level"))}</span>${levelRadios("yellow")}</div>
      <label class="wide"><span class="req">${esc(t("form.warning.headline"))}</span><input name="headline" required maxlength="200" autocomplete="off"></label>
      <label class="wide"><span>${esc(label("warningField", "description"))}</span><textarea name="description" maxlength="4000" rows="3"></textarea></label>
      <label class="wide"><span>${esc(label("warningField", "instruction"))}</span><textarea name="instruction" maxlength="2000" rows="2"></textarea></label>
      <label><span class="req">${esc(label("warningField", "onset"))}</span><input name="onset" type="datetime-local" required value="${toLocalInput(now)}"></label>
      <label><span class="req">${esc(label("warningField", "expires"))}</span><input name="expires" type="datetime-local" required value="${toLocalInput(now + 12 * 3600 * 1000)}"></label>
      <label class="wide"><span class="req">${esc(t("form.warning.targets"))}</span>
        <select name="targets" multiple required size="6">${units.map((u) => `<option value="${esc(u.code)}"${u.kind === "district" ? " selected" : ""}>${esc(u.kind === "village" || u.kind === "community" ? "　" : "")}${esc(u.name)}（${esc(label("unitKind", u.kind))}）</option>`).join("")}</select></label>
      <label class="wide check"><input type="checkbox" name="exercise"> <span>${esc(t("form.warning.exercise"))}</span></label>`,
    setup(body) {
      const cat = body.querySelector("[name=category]");
      const sub = body.querySelector("[name=subtype]");
      const fillSub = () => {
        sub.innerHTML = SUBTYPES[cat.value].map((s) => `<option value="${s}">${esc(label("subtype", s))}</option>`).join("");
      };
      cat.addEventListener("change", fillSub);
      fillSub();
      sub.value = "rainstorm";
    },
    collect(form) {
      const f = new FormData(form);
      const onset = fromLocalInput(f.get("onset"));
      const expires = fromLocalInput(f.get("expires"));
      if (!onset || !expires) throw new Error(label("warningField", "expires"));
      return {
        path: "/warnings",
        body: {
          category: f.get("category"), subtype: f.get("subtype"), level: f.get("level"), headline: String(f.get("headline")).trim(),
          description: String(f.get("description") || "").trim(), instruction: String(f.get("instruction") || "").trim(),
          onset, expires, targets: f.getAll("targets"), exercise: f.get("exercise") === "on",
        },
      };
    },
  });
}

function openWarningIssue(w) {
  openDialog({
    name: "warning-issue",
    title: `${t("action.issueWarning")} · ${w.headline}`,
    success: t("toast.warningIssued"),
    html: `${warningRef(w)}<div class="wide">${esc(t("form.warning.targets"))}：${esc(w.targets.map((c) => w.target_names?.[c] ?? c).join("、"))}</div>`,
    collect: () => ({ path: `/warnings/${encodeURIComponent(w.id)}/issue`, body: {} }),
  });
}

function openWarningUpdate(w) {
  openDialog({
    name: "warning-update",
    title: t("form.warning.updateTitle"),
    success: t("toast.warningUpdated"),
    html: `${warningRef(w)}
      <div class="wide"><span style="color:var(--text-2);font-size:0.92rem">${esc(label("warningField", "level"))}</span>${levelRadios(w.level)}</div>
      <label class="wide"><span>${esc(t("form.warning.headline"))}</span><input name="headline" maxlength="200" value="${esc(w.headline)}"></label>
      <label class="wide"><span>${esc(label("warningField", "instruction"))}</span><textarea name="instruction" maxlength="2000" rows="2">${esc(w.instruction)}</textarea></label>
      <label><span>${esc(label("warningField", "expires"))}</span><input name="expires" type="datetime-local" value="${toLocalInput(parseIso(w.expires))}"></label>
      <label class="wide"><span>${esc(t("form.warning.reason"))}</span><textarea name="reason" rows="2" maxlength="2000"></textarea></label>`,
    collect(form) {
      const f = new FormData(form);
      const body = { reason: String(f.get("reason") || "").trim() };
      if (f.get("level") !== w.level) body.level = f.get("level");
      const headline = String(f.get("headline") || "").trim();
      if (headline && headline !== w.headline) body.headline = headline;
      const instruction = String(f.get("instruction") || "").trim();
      if (instruction !== w.instruction) body.instruction = instruction;
      const expires = fromLocalInput(f.get("expires"));
      if (expires && parseIso(expires) !== parseIso(w.expires)) body.expires = expires;
      return { path: `/warnings/${encodeURIComponent(w.id)}/update`, body };
    },
  });
}

function openWarningLift(w) {
  openDialog({
    name: "warning-lift",
    title: t("form.warning.liftTitle"),
    success: t("toast.warningLifted"),
    html: `${warningRef(w)}<label class="wide"><span class="req">${esc(t("form.warning.liftReason"))}</span><textarea name="reason" rows="3" required maxlength="2000"></textarea></label>`,
    collect: (form) => ({ path: `/warnings/${encodeURIComponent(w.id)}/lift`, body: { reason: String(new FormData(form).get("reason") || "").trim() } }),
  });
}

function openWarningSign(w) {
  const unit = state.user.unit_code;
  openDialog({
    name: "warning-sign",
    title: `${t("action.signWarning")} · ${w.headline}`,
    success: t("toast.warningSigned"),
    html: `${warningRef(w)}<label class="wide"><span>${esc(t("form.note"))}</span><textarea name="note" rows="2" maxlength="2000"></textarea></label>`,
    collect: (form) => ({ path: `/warnings/${encodeURIComponent(w.id)}/receipts/${encodeURIComponent(unit)}/acknowledge`,
      body: { note: String(new FormData(form).get("note") || "").trim() } }),
  });
}

// 响应措施: what the desk's own unit did under the warning (the latest report's figures are its figures)
function openWarningRespond(w) {
  const unit = state.user.unit_code;
  const mine = (state.board?.warning_receipt ?? []).find((r) => r.warning_id === w.id && r.unit_code === unit) ?? {};
  openDialog({
    name: "warning-respond",
    title: `${t("action.respondWarning")} · ${w.headline}`,
    success: t("toast.warningResponded"),
    html: `${warningRef(w)}
      ${RESPONSE_MEASURES.map((m) => `<label><span>${esc(label("responseMeasure", m))}</span>
        <input name="${esc(m)}" type="number" min="0" max="1000000" step="1" inputmode="numeric" value="${esc(mine.measures?.[m] ?? "")}"></label>`).join("")}
      <label class="wide"><span>${esc(t("form.note"))}</span><textarea name="note" rows="2" maxlength="2000"></textarea></label>`,
    collect(form) {
      const f = new FormData(form);
      const measures = Object.fromEntries(RESPONSE_MEASURES.filter((m) => String(f.get(m) ?? "") !== "").map((m) => [m, Number(f.get(m))]));
      const note = String(f.get("note") || "").trim();
      if (!Object.keys(measures).length && !note) throw new Error(t("form.warning.respondSomething"));
      return { path: `/warnings/${encodeURIComponent(w.id)}/receipts/${encodeURIComponent(unit)}/response`, body: { measures, note } };
    },
  });
}

// 核实 / 控制 / 结案
// 更新灾情: the casualty and relief figures as they now stand (each one only when it changed)
function openSituation(incidentId) {
  const inc = findIncident(incidentId);
  if (!inc) return;
  openDialog({
    name: "situation",
    title: t("form.situation.title"),
    success: t("toast.situation"),
    html: `${incidentRef(inc)}
      ${SITUATION_FIELDS.map((k) => `<label><span>${esc(label("situation", k))}</span>
        <input name="${k}" type="number" min="0" max="1000000" step="1" inputmode="numeric" value="${Number(inc.situation?.[k] ?? 0)}"></label>`).join("")}
      <label class="wide"><span>${esc(t("form.situationNotes"))}</span><textarea name="notes" rows="3" maxlength="2000"></textarea></label>`,
    collect(form) {
      const f = new FormData(form);
      const body = { notes: String(f.get("notes") || "").trim() };
      for (const k of SITUATION_FIELDS) {
        const v = Number(f.get(k));
        if (Number.isInteger(v) && v !== Number(inc.situation?.[k] ?? 0)) body[k] = v;
      }
      if (Object.keys(body).length === 1 && !body.notes) throw new Error(t("form.situationNothing"));
      return { path: `/incidents/${encodeURIComponent(inc.id)}/situation`, body };
    },
  });
}

// 调整等级
function openLevel(incidentId) {
  const inc = findIncident(incidentId);
  if (!inc) return;
  openDialog({
    name: "level",
    title: t("form.level.title"),
    success: t("toast.levelChanged"),
    html: `${incidentRef(inc)}
      <div class="wide"><span class="req">${esc(t("form.level"))}</span>
        <div class="levels">${LEVELS.map((l) => `<label class="lv-${l}"><input type="radio" name="level" value="${l}"${l === inc.level ? " checked" : ""} required><span>${LEVEL_NUM[l]} ${esc(label("level", l))}</span></label>`).join("")}</div></div>
      <label class="wide"><span class="req">${esc(t("form.reason"))}</span><textarea name="reason" rows="3" maxlength="2000" required></textarea></label>`,
    collect(form) {
      const f = new FormData(form);
      if (f.get("level") === inc.level) throw new Error(t("form.levelSame"));
      return { path: `/incidents/${encodeURIComponent(inc.id)}/level`, body: { level: f.get("level"), reason: String(f.get("reason") || "").trim() } };
    },
  });
}

// 撤销（误报）
function openDismiss(incidentId) {
  const inc = findIncident(incidentId);
  if (!inc) return;
  openDialog({
    name: "dismiss",
    title: t("form.dismiss.title"),
    success: t("toast.dismissed"),
    html: `${incidentRef(inc)}
      <label class="wide"><span class="req">${esc(t("form.reason"))}</span><textarea name="reason" rows="3" maxlength="2000" required></textarea></label>`,
    collect(form) {
      return { path: `/incidents/${encodeURIComponent(inc.id)}/dismiss`, body: { reason: String(new FormData(form).get("reason") || "").trim() } };
    },
  });
}

function openSimple(kind, incidentId) {
  const inc = findIncident(incidentId);
  if (!inc) return;
  const isClose = kind === "close";
  openDialog({
    name: kind,
    title: t(`form.${kind}.title`),
    success: t({ verify: "toast.verified", control: "toast.controlled", close: "toast.closed" }[kind]),
    html: `${incidentRef(inc)}
      <label class="wide"><span class="${isClose ? "req" : ""}">${esc(t(isClose ? "form.summary" : "form.note"))}</span>
        <textarea name="${isClose ? "summary" : "note"}" rows="4" maxlength="${isClose ? 4000 : 2000}" ${isClose ? "required" : ""}></textarea></label>`,
    collect(form) {
      const f = new FormData(form);
      const text = String(f.get(isClose ? "summary" : "note") || "").trim();
      return { path: `/incidents/${encodeURIComponent(inc.id)}/${kind}`, body: isClose ? { summary: text } : { note: text } };
    },
  });
}

init();
