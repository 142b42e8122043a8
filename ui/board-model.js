// The board held in the browser: projections/board.py's derive (alerts and counts at a moment)
// and snapshot and delta application. The rules (what is on the board, which deadline runs in
// which status, the 2-hour and 16:00 rules) come from Python through the generated vocab.js;
// tests/unit/test_board_model_js.py runs this file and the Python side over the same boards at
// many moments and requires the same answer.
import { parseIso } from "./format.js";
import {
  CONTINUING_REPORT_DUE, CONTINUING_REPORT_LEVELS, DAILY_REPORT_DUE, DANGER_RUNNING, EXPIRED_WARNING_SHOWN_MS, INCIDENT_OPEN, LEC_BANDS,
  ON_BOARD as ON_BOARD_STATUSES, REPORT_STAGES, REPORT_UPWARD_WITHIN_MS, REPORTING_KINDS as REPORTING, RUNNING_DEADLINE, SHANGHAI_UTC_OFFSET_MS,
  VERIFIED_REPORT_DAYS, READINESS_STANDARDS, READINESS_STANDARD_KINDS, VILLAGE_KINDS,
} from "./vocab.js";

// The standard villages and communities are judged by (1+3): the one whose unit kinds are all village kinds.
const VILLAGE_STANDARD = READINESS_STANDARDS.find((s) => READINESS_STANDARD_KINDS[s].every((k) => VILLAGE_KINDS.includes(k)));

export { DAILY_REPORT_DUE };

/** When an incident's report to the city falls due (灾情发生2小时内报送), in ms since the epoch. */
export function reportUpwardDueMs(incident) {
  return parseIso(incident.occurred_at) + REPORT_UPWARD_WITHIN_MS;
}
export const ON_BOARD = Object.fromEntries(Object.entries(ON_BOARD_STATUSES).map(([k, v]) => [k, v === null ? null : new Set(v)]));
export const REPORTING_KINDS = new Set(REPORTING);

/** The calendar day (YYYY-MM-DD) and the local "HH:MM" of a moment, in Asia/Shanghai. */
export function shanghaiDay(ms) {
  const iso = new Date(ms + SHANGHAI_UTC_OFFSET_MS).toISOString();
  return { day: iso.slice(0, 10), hhmm: iso.slice(11, 16) };
}
export const BOARD_KINDS = Object.keys(ON_BOARD);

const [INITIAL, CONTINUING, VERIFIED] = REPORT_STAGES;
const DAY_MS = 24 * 3600 * 1000;

/**
 * The staged disaster reports an incident's schedule (`report_schedule`) still owes at `nowMs`, as
 * projections.disaster_reports.owing says (its rules from domain/disaster_reports.py through vocab.js):
 * the 初报; today's 续报 while a level I or II incident is open, from the day after it occurred; the 核报
 * `verifiedDays` after it was controlled. Each with its deadline, and whether it is overdue or escalated.
 */
export function reportsOwing(s, nowMs, verifiedDays = VERIFIED_REPORT_DAYS) {
  if (s.incident_status === "dismissed") return [];
  const owed = [[INITIAL, INITIAL, s.initial_due_at]];
  const today = shanghaiDay(nowMs).day;
  if (CONTINUING_REPORT_LEVELS.includes(s.level) && INCIDENT_OPEN.includes(s.incident_status)
      && today > shanghaiDay(parseIso(s.occurred_at)).day) {
    owed.push([CONTINUING, today, `${today}T${CONTINUING_REPORT_DUE}:00+08:00`]);
  }
  if (s.controlled_at) owed.push([VERIFIED, VERIFIED, new Date(parseIso(s.controlled_at) + verifiedDays * DAY_MS).toISOString()]);
  const out = [];
  for (const [stage, key, dueAt] of owed) {
    if (key in (s.submitted ?? {})) continue;
    const escalated = (s.escalated ?? []).includes(key);
    const report = s.reports?.[key] ?? {};
    out.push({
      incident_id: s.id, stage, key, due_at: dueAt, overdue: escalated || parseIso(dueAt) < nowMs, escalated,
      report_id: report.id ?? null, report_status: report.status ?? null,
    });
  }
  return out;
}

export function onBoard(kind, doc) {
  if (doc == null || !(kind in ON_BOARD)) return false;
  const statuses = ON_BOARD[kind];
  return statuses === null || statuses.has(doc.status);
}

/** The street-level unit a code falls under (the district itself for district-level codes). */
export function streetOf(unitCode) {
  const code = String(unitCode ?? "");
  if (code.length !== 12 || code.slice(6, 9) === "000") {
    return code.length === 12 ? code.slice(0, 6) + "000000" : code;
  }
  return code.slice(0, 9) + "000";
}

/** projections.warnings.in_force: issued and not yet past its expiry. */
export function warningInForce(w, nowMs) {
  return w.status === "issued" && nowMs < parseIso(w.expires);
}

/** projections.warnings.shown_status: draft, issued, expired or lifted. */
export function warningShownStatus(w, nowMs) {
  return w.status === "issued" && !warningInForce(w, nowMs) ? "expired" : w.status;
}

/** Whether a warning is still shown: in force, a draft, or expired less than EXPIRED_WARNING_SHOWN_MS ago. */
export function warningShown(w, nowMs) {
  return w.status !== "issued" || nowMs - parseIso(w.expires) < EXPIRED_WARNING_SHOWN_MS;
}

/** projections.warnings.receipt_state: pending, overdue, signed or late. */
export function receiptState(r, nowMs) {
  if (r.signed_at) return r.late ? "late" : "signed";
  return parseIso(r.deadline) < nowMs ? "overdue" : "pending";
}

function byTuple(a, b) {
  const [x, y] = [JSON.parse(a), JSON.parse(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

function sortedEntries(obj) {
  return Object.keys(obj).sort().map((k) => [k, obj[k]]);
}

/**
 * Alerts and per-street counts, as projections.board.derive computes them; `nowMs` is the moment judged,
 * `relay` the relay's health (null when no city platform is configured).
 */
export function derive(board, nowMs, relay = null) {
  const alerts = [];
  for (const d of board.dispatch ?? []) {
    // A missed deadline shows at once; `escalated` says the watchdog has recorded it in the log.
    const escalated = new Set((d.escalations ?? []).map((x) => x.reason));
    const rule = RUNNING_DEADLINE[d.status];
    const due = rule ? [[rule.reason, d[rule.field]]] : [];
    for (const [reason, deadline] of due) {
      if (deadline && (escalated.has(reason) || parseIso(deadline) < nowMs)) {
        alerts.push({
          kind: reason, level: "danger", dispatch_id: d.id, team_name: d.team_name, incident_title: d.incident_title,
          since: deadline, unit_code: d.unit_code, escalated: escalated.has(reason),
        });
      }
    }
  }
  for (const i of board.incident ?? []) {
    const due = reportUpwardDueMs(i);
    if (!i.reported_upward_at && !i.exercise && due < nowMs) { // an exercise (演练) is not reported upward
      alerts.push({
        kind: "report_overdue", level: "danger", incident_id: i.id, incident_title: i.title,
        since: new Date(due).toISOString(), unit_code: i.unit_code,
      });
    }
  }
  const verifiedDays = board.report_rules?.verified_report_days ?? VERIFIED_REPORT_DAYS;
  for (const s of board.report_schedule ?? []) {
    for (const o of reportsOwing(s, nowMs, verifiedDays)) {
      if (o.overdue) {
        alerts.push({
          kind: "disaster_report_overdue", level: "danger", incident_id: s.id, incident_title: s.title, stage: o.stage, key: o.key,
          since: o.due_at, unit_code: s.unit_code, escalated: o.escalated,
        });
      }
    }
  }
  for (const h of board.handover ?? []) {
    if (h.escalated_at || parseIso(h.confirm_by) < nowMs) {
      alerts.push({
        kind: "handover_unconfirmed", level: "danger", handover_id: h.id, day: h.day, since: h.confirm_by,
        unit_code: h.unit_code, escalated: !!h.escalated_at,
      });
    }
  }
  for (const dv of board.directive ?? []) {
    alerts.push({ kind: "directive", level: "warning", directive_id: dv.id, title: dv.title, since: dv.received_at, unit_code: dv.unit_code });
  }
  // Early warnings: per warning in force and street, the targets that have not signed in time (one alarm each).
  const inForce = new Map((board.warning ?? []).filter((w) => warningInForce(w, nowMs)).map((w) => [w.id, w]));
  const overdue = new Map();
  for (const r of board.warning_receipt ?? []) {
    const w = inForce.get(r.warning_id);
    if (w && receiptState(r, nowMs) === "overdue") {
      const key = JSON.stringify([w.id, streetOf(r.unit_code)]);
      if (!overdue.has(key)) overdue.set(key, []);
      overdue.get(key).push(r);
    }
  }
  for (const key of [...overdue.keys()].sort(byTuple)) {
    const [warningId, street] = JSON.parse(key);
    const receipts = overdue.get(key);
    const w = inForce.get(warningId);
    alerts.push({
      kind: "receipt_overdue", level: "danger", warning_id: warningId, headline: w.headline, warning_level: w.level,
      exercise: w.exercise, unit_code: street, units: receipts.map((r) => r.unit_code).sort(),
      since: receipts.map((r) => r.deadline).sort()[0], escalated: receipts.some((r) => !!r.escalated_at),
    });
  }
  if (relay && relay.alarm) {
    alerts.push({ kind: "relay_alarm", level: "danger", detail: relay.last_error ?? "", since: relay.alarm_since, unit_code: "" });
  }
  for (const w of board.warehouse ?? []) {
    for (const [code, line] of sortedEntries(w.stock ?? {})) {
      const available = line.on_hand - line.reserved;
      if (line.minimum && available < line.minimum) {
        alerts.push({
          kind: "stock_low", level: "warning", warehouse_id: w.id, warehouse_name: w.name,
          material: code, available, minimum: line.minimum, unit_code: w.unit_code,
        });
      }
    }
  }
  // Daily reports: who has filed today; after the cut-off, one alert per street naming the silent units.
  const { day: today, hhmm } = shanghaiDay(nowMs);
  const filedToday = new Set((board.daily_status ?? []).filter((d) => d.day === today).map((d) => d.unit_code));
  // Only the villages the server says are in the viewer's scope (`reporting_units`): every unit is on the board for the map.
  const due = board.reporting_units ? new Set(board.reporting_units) : null;
  const reporting = (board.unit ?? []).filter((u) => REPORTING_KINDS.has(u.kind) && (!due || due.has(u.code)));
  if (hhmm >= DAILY_REPORT_DUE) {
    const missing = {};
    for (const u of reporting) {
      if (!filedToday.has(u.code)) (missing[streetOf(u.code)] ??= []).push(u.code);
    }
    for (const [street, codes] of sortedEntries(missing)) {
      alerts.push({
        kind: "daily_report_missing", level: "warning", unit_code: street, day: today,
        units: [...codes].sort(), since: `${today}T${DAILY_REPORT_DUE}:00+08:00`,
      });
    }
  }
  const counts = {};
  const bump = (unitCode, key) => {
    const street = streetOf(unitCode);
    const row = (counts[street] ??= {
      incidents: 0, teams_busy: 0, teams_idle: 0, dispatches: 0, daily_due: 0, daily_filed: 0, warning_receipts: 0, warning_signed: 0,
    });
    row[key] += 1;
  };
  for (const i of board.incident ?? []) if (!i.exercise) bump(i.unit_code, "incidents"); // exercises are shown, not counted
  for (const tm of board.team ?? []) {
    if (tm.status === "idle") bump(tm.unit_code, "teams_idle");
    else if (tm.status !== "off_duty") bump(tm.unit_code, "teams_busy");
  }
  for (const d of board.dispatch ?? []) if (!d.exercise) bump(d.unit_code, "dispatches");
  for (const r of board.warning_receipt ?? []) { // real warnings in force only: exercises never count
    const w = inForce.get(r.warning_id);
    if (w && !w.exercise) {
      bump(r.unit_code, "warning_receipts");
      if (r.signed_at) bump(r.unit_code, "warning_signed");
    }
  }
  for (const u of reporting) {
    bump(u.code, "daily_due");
    if (filedToday.has(u.code)) bump(u.code, "daily_filed");
  }
  derivePlans(board, nowMs, alerts);
  for (const r of board.rectification ?? []) { // 整改事项 still open (on the board) past their deadline
    if (onBoard("rectification", r) && parseIso(r.deadline) < nowMs) {
      alerts.push({
        kind: "rectification_overdue", level: "warning", rectification_id: r.id, item_id: r.item_id, since: r.deadline,
        unit_code: r.unit_code, escalated: Boolean(r.escalated_at),
      });
    }
  }
  return {
    alerts, counts_by_street: counts, ...derivePrevention(board, nowMs, alerts),
    readiness_by_street: readinessByStreet(board.readiness ?? [], nowMs, board.readiness_live ?? {}),
  };
}

/**
 * A readiness item as it stands at `nowMs` (projections.readiness.effective): the server's fresh verdict where the
 * snapshot carries one (`readiness_live`: the platform item), else the stored one, red once its `until` has passed.
 */
export function readinessItem(item, nowMs, override = null) {
  const it = override ? { ...item, ...override } : item;
  if (it.status === "green" && it.until && parseIso(it.until) <= nowMs) return { ...it, status: "red", reason: it.lapse, until: null };
  return it;
}

/** Per street: its 1+4 and 六有 items green of total, its villages complete under 1+3 of total (street_counts). */
export function readinessByStreet(docs, nowMs, live = {}) {
  const rows = {};
  for (const doc of [...docs].sort((a, b) => a.unit_code.localeCompare(b.unit_code))) {
    const row = (rows[doc.street_code] ??= Object.fromEntries(READINESS_STANDARDS.map((s) => [s, [0, 0]])));
    const items = doc.card.items.map((i) => readinessItem(i, nowMs, live[doc.unit_code]?.[i.id] ?? null));
    if (VILLAGE_KINDS.includes(doc.unit_kind)) {
      row[VILLAGE_STANDARD][1] += 1;
      row[VILLAGE_STANDARD][0] += items.length > 0 && items.every((i) => i.status === "green") ? 1 : 0;
    } else {
      for (const i of items) {
        row[i.standard][1] += 1;
        row[i.standard][0] += i.status === "green" ? 1 : 0;
      }
    }
  }
  return Object.fromEntries(sortedEntries(rows));
}

/**
 * 预案与演练 on the board, as projections.board.derive_plans: a plan past its drill (2-year rule) or revision
 * due day, a unit past its drill due day. The due days come in the documents; lapsed is "today after it".
 */
export function derivePlans(board, nowMs, alerts) {
  const today = shanghaiDay(nowMs).day;
  for (const p of board.plan ?? []) {
    for (const [kind, reason, due] of [["plan_drill_lapsed", "drill_lapsed", p.drill_due_on], ["plan_revision_lapsed", "revision_lapsed", p.revision_due_on]]) {
      if (due && today > due) {
        alerts.push({
          kind, level: "warning", plan_id: p.id, title: p.title, since: due, unit_code: p.unit_code,
          escalated: (p.escalations ?? []).some((x) => x.reason === reason && x.due_on === due),
        });
      }
    }
  }
  for (const u of board.unit_drills ?? []) {
    if (today > u.drill_due_on) {
      alerts.push({
        kind: "unit_drill_lapsed", level: "warning", unit_code: u.unit_code, since: u.drill_due_on,
        escalated: (u.escalations ?? []).some((x) => x.due_on === u.drill_due_on),
      });
    }
  }
}

/** The level of an LEC score, by the bands domain.prevention defines (LEC_BANDS; a test compares it with lec_level). */
export function lecLevel(d) {
  const band = LEC_BANDS.find((b) => d > b.above || (b.inclusive && d === b.above));
  return band ? band.level : LEC_BANDS[LEC_BANDS.length - 1].level;
}

/** 双重预防 on the board, as projections.board.derive_prevention: overdue rectifications and reviews, per-street counts. */
export function derivePrevention(board, nowMs, alerts) {
  const perStreet = {};
  for (const h of board.hidden_danger ?? []) {
    const row = (perStreet[streetOf(h.unit_code)] ??= { open: 0, overdue: 0, major_open: 0 });
    row.open += 1;
    if (h.grade === "major") row.major_open += 1;
    if (DANGER_RUNNING.includes(h.status) && h.deadline && parseIso(h.deadline) < nowMs) {
      row.overdue += 1;
      alerts.push({
        kind: "danger_overdue", level: "danger", danger_id: h.id, title: h.title, grade: h.grade, since: h.deadline,
        unit_code: h.unit_code, escalated: (h.escalations ?? []).some((x) => x.deadline === h.deadline),
      });
    }
  }
  for (const r of board.risk_point ?? []) {
    if (r.review_due && parseIso(r.review_due) < nowMs) {
      alerts.push({
        kind: "risk_review_overdue", level: "warning", risk_point_id: r.id, title: r.name, risk_level: r.level,
        since: r.review_due, unit_code: r.unit_code,
      });
    }
  }
  return { dangers_by_street: Object.fromEntries(sortedEntries(perStreet)) };
}

/**
 * The live board: documents by kind and id, and the last log position seen.
 * `replace` takes a snapshot (GET /board or a WebSocket snapshot frame); `applyDelta` a delta frame.
 */
export class BoardModel {
  constructor() {
    this.position = null;
    this.at = null;
    this.kinds = Object.fromEntries(BOARD_KINDS.map((k) => [k, new Map()]));
    this.relay = null; // the relay's health: not in the log, pushed in `relay` frames
    this.reportingUnits = null; // the villages whose daily report this viewer's board counts (from the snapshot)
    this.reportRules = null; // the deployment's report periods (the 核报's days), from the snapshot
    this.version = 0; // bumps on every change, for cheap re-render checks
  }

  replace(board, position = board.position) {
    for (const kind of BOARD_KINDS) {
      const m = new Map();
      for (const doc of board[kind] ?? []) if (onBoard(kind, doc)) m.set(doc.id, doc);
      this.kinds[kind] = m;
    }
    this.position = position ?? null;
    this.at = board.at ?? null;
    if ("relay" in board) this.relay = board.relay ?? null;
    this.reportingUnits = board.reporting_units ?? null;
    this.reportRules = board.report_rules ?? null;
    this.readinessLive = board.readiness_live ?? {}; // readiness items judged outside the log (sign-ins), at the snapshot
    this.version += 1;
  }

  setRelay(relay) {
    this.relay = relay ?? null;
    this.version += 1;
  }

  /** Apply a delta frame in order; frames at or below the position already held are ignored. Returns true if applied. */
  applyDelta(frame) {
    if (this.position !== null && frame.position <= this.position) return false;
    for (const ch of frame.changes ?? []) {
      const m = this.kinds[ch.kind];
      if (!m) continue;
      if (ch.doc == null || !onBoard(ch.kind, ch.doc)) m.delete(ch.id);
      else m.set(ch.id, ch.doc);
    }
    this.position = frame.position;
    this.version += 1;
    return true;
  }

  /** A heartbeat says nothing we may see changed up to `position`. */
  advance(position) {
    if (typeof position === "number" && (this.position === null || position > this.position)) {
      this.position = position;
      return true;
    }
    return false;
  }

  list(kind) {
    return [...(this.kinds[kind]?.values() ?? [])];
  }

  get(kind, id) {
    return this.kinds[kind]?.get(id);
  }

  /** The board in the API's shape, with alerts and counts derived at `nowMs`. */
  toBoard(nowMs = Date.now()) {
    const board = Object.fromEntries(BOARD_KINDS.map((k) => [k, this.list(k)]));
    board.reporting_units = this.reportingUnits;
    board.report_rules = this.reportRules;
    board.readiness_live = this.readinessLive ?? {};
    return { position: this.position, ...board, relay: this.relay, ...derive(board, nowMs, this.relay) };
  }
}
