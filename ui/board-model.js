// The board held in the browser: a port of projections/board.py (ON_BOARD, on_board,
// street_of, derive) plus snapshot and delta application. Keep it in step with the Python.
import { parseIso } from "./format.js";

export const ON_BOARD = {
  unit: null, // all
  incident: new Set(["reported", "verified", "controlled"]),
  team: null,
  dispatch: new Set(["ordered", "acknowledged", "departed", "arrived"]),
  allocation: new Set(["reserved", "shipped"]),
  warehouse: null,
};
export const BOARD_KINDS = Object.keys(ON_BOARD);

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

function sortedEntries(obj) {
  return Object.keys(obj).sort().map((k) => [k, obj[k]]);
}

/** Alerts and per-street counts, as projections.board.derive computes them; `nowMs` is the moment judged. */
export function derive(board, nowMs) {
  const alerts = [];
  for (const d of board.dispatch ?? []) {
    if (d.status === "ordered" && d.ack_deadline && parseIso(d.ack_deadline) < nowMs) {
      alerts.push({
        kind: "ack_overdue", level: "danger", dispatch_id: d.id, team_name: d.team_name,
        incident_title: d.incident_title, since: d.ack_deadline, unit_code: d.unit_code,
      });
    }
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
  const counts = {};
  const bump = (unitCode, key) => {
    const street = streetOf(unitCode);
    const row = (counts[street] ??= { incidents: 0, teams_busy: 0, teams_idle: 0, dispatches: 0 });
    row[key] += 1;
  };
  for (const i of board.incident ?? []) bump(i.unit_code, "incidents");
  for (const tm of board.team ?? []) {
    if (tm.status === "idle") bump(tm.unit_code, "teams_idle");
    else if (tm.status !== "off_duty") bump(tm.unit_code, "teams_busy");
  }
  for (const d of board.dispatch ?? []) bump(d.unit_code, "dispatches");
  return { alerts, counts_by_street: counts };
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
    return { position: this.position, ...board, ...derive(board, nowMs) };
  }
}
