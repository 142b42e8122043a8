// The board's panels, drawn from a board as it is now (the command board) or as it stood (replay):
// both pages draw the same panels with these functions. What differs is passed in a `view`:
//   mark(doc)          extra classes for a record (" is-new", " is-touched")
//   selectedId         the incident in focus
//   detail(i)          the focused incident's detail and actions (the board's desk), or ""
//   alertExtra(a)      controls under an alert (the board's 签收 of a directive), or ""
//   expandedWh, stockRows   which warehouses show every line, how many lines the others show
//   warningActions(w, receipts)   the desk's controls under a warning (issue, update, lift, a street's 签收), or ""
import { receiptState, reportsOwing, streetOf, reportUpwardDueMs, warningInForce, warningShown, warningShownStatus } from "./board-model.js";
import { esc, fmtCountdown, fmtDateTime, fmtDuration, fmtHM, fmtNumber, fmtTime, LEVEL_NUM, parseIso } from "./format.js";
import { label, materialName, materialUnit, t } from "./i18n.js";
import { legendHtml, renderMap } from "./map.js";
import {
  DISPATCH_FLOW, HARM_FIELDS, LEVELS, ON_BOARD, READINESS_STANDARD_KINDS, READINESS_STANDARDS, SITUATION_FIELDS, STREET_KINDS, TEAM_STATUSES,
  WARNING_LEVELS,
} from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const DISPATCH_STEPS = DISPATCH_FLOW.filter((s) => ON_BOARD.dispatch.includes(s)).map((s) => [s, `${s}_at`]);

export const PLAIN_VIEW = Object.freeze({
  mark: () => "", selectedId: null, detail: () => "", alertExtra: () => "", expandedWh: new Set(), stockRows: 3,
  warningActions: () => "", allocationActions: () => "", dispatchActions: () => "", teamActions: () => "",
});

/** What every panel looks things up in: the board, units by code, dispatches by incident, and the moment judged. */
export function boardContext(board, now) {
  const units = new Map(board.unit.map((u) => [u.code, u]));
  const dispatchesByIncident = new Map();
  for (const d of board.dispatch) {
    const list = dispatchesByIncident.get(d.incident_id) ?? [];
    list.push(d);
    dispatchesByIncident.set(d.incident_id, list);
  }
  return { board, units, dispatchesByIncident, now };
}

export function unitName(ctx, code) {
  return ctx.units.get(code)?.name ?? code ?? "";
}

/** "新兴街道 · 魏庄村" for a village, the street's name for a street. */
export function unitPath(ctx, code) {
  if (!code) return "";
  const street = streetOf(code);
  const names = [];
  if (street !== code && ctx.units.has(street)) names.push(unitName(ctx, street));
  names.push(unitName(ctx, code));
  return names.join(" · ");
}

export { showDistrictName } from "./shell.js"; // the header's district name: one function, in the page shell

export function levelSort(a, b) {
  return LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || parseIso(b.occurred_at) - parseIso(a.occurred_at);
}

/** Which alerts are up: when this changes with the clock alone, the panels are drawn again. */
export function alertKey(alerts) {
  return alerts.map((a) => `${a.kind}:${a.dispatch_id ?? a.incident_id ?? a.directive_id ?? a.warehouse_id ?? a.warning_id ?? a.handover_id ?? ""}:${a.material ?? a.units?.length ?? a.key ?? ""}`).join(",");
}

export function countdownParts(deadlineIso, now) {
  const left = parseIso(deadlineIso) - now;
  const overdue = left < 0;
  return { overdue, text: (overdue ? "+" : "") + fmtCountdown(left), label: overdue ? t("dispatch.overdue") : t("dispatch.remaining") };
}

/** Ages, countdowns and the 2-hour countdowns follow the clock between renders. */
export function tickCountdowns(now) {
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = fmtDuration(now - parseIso(el.dataset.since));
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const cd = countdownParts(el.dataset.deadline, now);
    el.textContent = cd.text;
    const lbl = el.parentElement.querySelector(".cd-label");
    if (lbl) lbl.textContent = cd.label;
  }
  for (const el of document.querySelectorAll("[data-due]")) el.textContent = fmtCountdown(parseIso(el.dataset.due) - now);
}

export function renderKpis(ctx) {
  const { board, now } = ctx;
  const byLevel = Object.fromEntries(LEVELS.map((l) => [l, 0]));
  for (const i of board.incident) byLevel[i.level] = (byLevel[i.level] ?? 0) + 1;
  const awaiting = board.dispatch.filter((d) => d.status === "ordered");
  const overdue = awaiting.filter((d) => parseIso(d.ack_deadline) < now).length;
  const idle = board.team.filter((tm) => tm.status === "idle").length;
  const busy = board.team.filter((tm) => tm.status !== "idle" && tm.status !== "off_duty").length;
  const shipped = board.allocation.filter((a) => a.status === "shipped").length;
  const stockLow = board.alerts.filter((a) => a.kind === "stock_low");
  const lowWarehouses = new Set(stockLow.map((a) => a.warehouse_id)).size;
  const sum = Object.fromEntries(SITUATION_FIELDS.map((k) => [k, 0]));
  for (const i of board.incident) for (const k of SITUATION_FIELDS) sum[k] += i.situation?.[k] ?? 0;
  const lvMini = LEVELS.map((l) => `<span style="background:var(--lv-${l})">${LEVEL_NUM[l]} ${byLevel[l]}</span>`).join("");
  const severe = byLevel.I + byLevel.II > 0;
  const tile = (value, lbl, sub, color, hot = false, id = "") => `
    <div class="kpi${hot ? " is-hot" : ""}" style="--kpi-c:${color}" ${id ? `data-testid="${id}"` : ""}>
      <div class="kpi-value">${value}</div>
      <div class="kpi-text"><div class="kpi-label">${esc(lbl)}</div><div class="kpi-sub">${sub}</div></div>
    </div>`;
  $("#kpis").innerHTML = [
    tile(board.incident.length, t("kpi.incidents"), `<span class="lv-mini">${lvMini}</span>`, severe ? "var(--lv-I)" : "var(--lv-III)", false, "kpi-incidents"),
    tile(awaiting.length, t("kpi.awaitingAck"), overdue ? `<span class="hot">${esc(t("kpi.overdue", { n: overdue }))}</span>` : esc(t("kpi.overdue", { n: 0 })),
      overdue ? "var(--danger)" : "var(--warn)", overdue > 0, "kpi-awaiting"),
    tile(idle, t("kpi.teamsIdle"), esc(t("kpi.teamsBusy", { n: busy })), "var(--ok)", false, "kpi-teams"),
    tile(board.allocation.length, t("kpi.allocations"),
      `${esc(label("allocationStatus", "reserved"))} ${board.allocation.length - shipped} · ${esc(label("allocationStatus", "shipped"))} ${shipped}`, "var(--accent-2)", false, "kpi-allocations"),
    tile(stockLow.length, t("kpi.stockLow"), esc(`${t("panel.warehouses")} ${lowWarehouses}/${board.warehouse.length}`), stockLow.length ? "var(--warn)" : "var(--ok)", false, "kpi-stock"),
    tile(`${fmtNumber(sum.evacuated)}<small style="font-size:0.55em;color:var(--text-3)"> / ${fmtNumber(sum.affected)}</small>`, t("kpi.people"),
      HARM_FIELDS.map((k) => `${esc(label("situation", k))} ${sum[k] ? `<span class="hot">${sum[k]}</span>` : 0}`).join(" · "), "var(--accent)", false, "kpi-people"),
  ].join("");
}

export function figuresHtml(situation) {
  const figs = SITUATION_FIELDS.filter((k) => (situation?.[k] ?? 0) > 0);
  if (!figs.length) return `<span class="figs"><span class="fig" style="color:var(--text-3)">${esc(t("incident.noFigures"))}</span></span>`;
  return `<span class="figs">${figs
    .map((k) => `<span class="fig${HARM_FIELDS.includes(k) ? " bad" : ""}">${esc(label("situation", k))}<b>${fmtNumber(situation[k])}</b></span>`)
    .join("")}</span>`;
}

/** The 2-hour rule for reporting to the city platform (灾情发生2小时内报送), as it stood at `now`. */
export function upwardHtml(i, now) {
  if (i.exercise) return ""; // an exercise (演练) is not reported upward: no 2-hour countdown
  if (i.reported_upward_at && parseIso(i.reported_upward_at) <= now) {
    return `<span class="upward done" title="${esc(fmtDateTime(i.reported_upward_at))}">✓ ${esc(t("upward.done"))}</span>`;
  }
  const due = reportUpwardDueMs(i);
  if (due < now) return `<span class="upward overdue">${esc(t("upward.overdue"))}</span>`;
  return `<span class="upward due">${esc(t("upward.due"))} <b data-due="${esc(new Date(due).toISOString())}">${esc(fmtCountdown(due - now))}</b></span>`;
}

/** The staged disaster reports (初报/续报/核报) an incident still owes, with their deadlines, as it stood at `now`. */
export function stagedHtml(ctx, i) {
  const schedule = (ctx.board.report_schedule ?? []).find((s) => s.id === i.id);
  if (!schedule) return "";
  const owed = reportsOwing(schedule, ctx.now, ctx.board.report_rules?.verified_report_days);
  if (!owed.length) return "";
  const items = owed.map((o) => {
    const stage = label("reportStage", o.stage);
    const text = o.overdue ? t("staged.overdue", { stage }) : t("staged.due", { stage, time: fmtHM(o.due_at) });
    return `<span class="staged-item${o.overdue ? " overdue" : ""}" data-stage="${esc(o.stage)}">${esc(text)}</span>`;
  }).join("");
  return `<div class="inc-staged" data-testid="staged-${esc(i.id)}"><span class="staged-label">${esc(t("staged.line"))}</span>${items}</div>`;
}

export function renderIncidents(ctx, view = PLAIN_VIEW) {
  const list = [...ctx.board.incident].sort(levelSort);
  $("#incident-count").textContent = list.length;
  const groups = LEVELS.map((l) => [l, list.filter((i) => i.level === l)]).filter(([, items]) => items.length);
  $("#incident-list").innerHTML = groups.map(([lvl, items]) => `
    <section class="lv-group lv-${lvl}" data-level="${lvl}">
      <div class="lv-group-head"><span>${LEVEL_NUM[lvl]} ${esc(label("level", lvl))}</span><span class="n">${items.length}</span></div>
      ${items.map((i) => incidentHtml(ctx, i, view)).join("")}
    </section>`).join("") || `<div class="empty">${esc(t("empty.incidents"))}</div>`;
}

export function incidentHtml(ctx, i, view = PLAIN_VIEW) {
  const sel = i.id === view.selectedId;
  const dispatches = ctx.dispatchesByIncident.get(i.id) ?? [];
  const place = [unitPath(ctx, i.unit_code), i.address].filter(Boolean).join(" · ");
  const teams = dispatches.length
    ? `<span class="inc-teams">${esc(t("incident.teams", { n: dispatches.length }))}</span>`
    : `<span class="inc-teams none">${esc(t("incident.unassigned"))}</span>`;
  return `<article class="incident lv-${esc(i.level)}${sel ? " selected" : ""}${view.mark(i)}" data-testid="incident-${esc(i.id)}" data-id="${esc(i.id)}" data-level="${esc(i.level)}" data-status="${esc(i.status)}" tabindex="0">
    <div class="inc-top">
      <span class="lv-badge">${LEVEL_NUM[i.level] ?? esc(i.level)}</span>
      ${i.exercise ? `<span class="drill-tag">${esc(label("exercise", "true"))}</span>` : ""}<span class="inc-title" title="${esc(i.title)}">${esc(i.title)}</span>
      <span class="chip st-${esc(i.status)}">${esc(label("incidentStatus", i.status))}</span>
    </div>
    <div class="inc-meta">${esc(label("category", i.category))} · ${esc(label("subtype", i.subtype))} ｜ ${esc(place)}</div>
    <div class="inc-row">
      <span class="inc-age"><span data-since="${esc(i.occurred_at)}">${esc(fmtDuration(ctx.now - parseIso(i.occurred_at)))}</span><small>${esc(t("incident.occurred"))} ${esc(fmtHM(i.occurred_at))}</small></span>
      ${figuresHtml(i.situation)}
      ${upwardHtml(i, ctx.now)}
      ${teams}
    </div>
    ${stagedHtml(ctx, i)}
    ${sel ? view.detail(i, dispatches) : ""}
  </article>`;
}

/**
 * The messages sent about a record (its `notifications`, from the notifier's events): each recipient's channel and
 * delivery state in the glossary's words (已送达 / 重试中 / 失败 …); past `perRecipient` messages, counts per channel and state.
 */
export function noticesHtml(notes, perRecipient = 4) {
  if (!notes?.length) return "";
  const state = (n) => `<span class="nt-s nt-${esc(n.status)}">${esc(label("notifyStatus", n.status))}</span>`;
  let items;
  if (notes.length <= perRecipient) {
    items = notes.map((n) => `<span class="nt" title="${esc(n.error || "")}">${esc(label("notifyChannel", n.channel))} ${esc(n.recipient || label("notifyPost", n.post))} ${state(n)}${
      n.status === "retrying" ? ` <span class="nt-n">×${esc(n.attempts)}</span>` : ""}</span>`);
  } else {
    const counts = new Map();
    for (const n of notes) counts.set(`${n.channel}|${n.status}`, (counts.get(`${n.channel}|${n.status}`) ?? 0) + 1);
    items = [...counts].sort().map(([k, count]) => {
      const [channel, status] = k.split("|");
      return `<span class="nt">${esc(label("notifyChannel", channel))} ${state({ status })} ${esc(count)}</span>`;
    });
  }
  return `<div class="d-notify" data-testid="notify"><span class="nt-h">${esc(label("notifyText", "heading"))}</span>${items.join("")}</div>`;
}

export function renderDispatches(ctx, view = PLAIN_VIEW) {
  const { board, now } = ctx;
  const awaiting = board.dispatch.filter((d) => d.status === "ordered").sort((a, b) => parseIso(a.ack_deadline) - parseIso(b.ack_deadline));
  const moving = board.dispatch.filter((d) => d.status !== "ordered")
    .sort((a, b) => TEAM_STATUSES.indexOf(a.status) - TEAM_STATUSES.indexOf(b.status) || parseIso(a.ordered_at) - parseIso(b.ordered_at));
  $("#dispatch-count").textContent = board.dispatch.length;
  const incRef = (d) => {
    const inc = board.incident.find((i) => i.id === d.incident_id);
    return `<div class="d-inc lv-${esc(inc?.level ?? d.incident_level)}"><span class="lv-dot"></span>${esc(d.incident_title)} · ${esc(unitPath(ctx, d.unit_code))}</div>`;
  };
  const awaitingHtml = awaiting.map((d) => {
    const cd = countdownParts(d.ack_deadline, now);
    return `<article class="dispatch awaiting${cd.overdue ? " overdue" : ""}${view.mark(d)}" data-testid="dispatch-${esc(d.id)}" data-id="${esc(d.id)}">
      <div class="d-top">
        <span class="chip ts-ordered">${esc(label("dispatchStatus", "ordered"))}</span>
        <span class="d-team" title="${esc(d.team_name)}">${esc(d.team_name)}</span>
        <div class="countdown"><span class="cd" data-deadline="${esc(d.ack_deadline)}">${esc(cd.text)}</span><span class="cd-label">${esc(cd.label)}</span></div>
      </div>
      ${incRef(d)}
      <div class="d-task">${esc(t("dispatch.deadline"))} ${esc(fmtTime(d.ack_deadline))} · ${esc(t("dispatch.task"))}：${esc(d.task)}</div>
      ${noticesHtml(d.notifications)}${(view.dispatchActions ?? PLAIN_VIEW.dispatchActions)(d)}
    </article>`;
  }).join("");
  const movingHtml = moving.map((d) => {
    const idx = DISPATCH_STEPS.findIndex(([s]) => s === d.status);
    const steps = DISPATCH_STEPS.map(([s, stamp], k) => `<div class="step${k < idx ? " done" : k === idx ? " current" : ""}">${esc(label("teamStatus", s))}<time>${d[stamp] ? esc(fmtHM(d[stamp])) : "--:--"}</time></div>`).join("");
    const arriving = (d.status === "acknowledged" || d.status === "departed") && d.arrive_deadline;
    const cd = arriving ? countdownParts(d.arrive_deadline, now) : null;
    const late = cd?.overdue || (d.escalations ?? []).some((x) => x.reason === "arrival_overdue" && d.status !== "arrived");
    const clock = cd ? `<div class="countdown"><span class="cd" data-deadline="${esc(d.arrive_deadline)}">${esc(cd.text)}</span><span class="cd-label">${esc(cd.label)}</span></div>` : "";
    return `<article class="dispatch moving${late ? " overdue" : ""}${view.mark(d)}" data-testid="dispatch-${esc(d.id)}" data-id="${esc(d.id)}">
      <div class="d-top"><span class="chip ts-${esc(d.status)}">${esc(label("dispatchStatus", d.status))}</span><span class="d-team">${esc(d.team_name)}</span>${clock}</div>
      ${incRef(d)}
      ${arriving ? `<div class="d-task">${esc(t("dispatch.arriveDeadline"))} ${esc(fmtTime(d.arrive_deadline))}</div>` : ""}
      <div class="steps">${steps}</div>
      ${noticesHtml(d.notifications)}${(view.dispatchActions ?? PLAIN_VIEW.dispatchActions)(d)}
    </article>`;
  }).join("");
  $("#dispatch-list").innerHTML = `
    <div class="sub-head">${esc(t("panel.awaitingAck"))} <span class="n">${awaiting.length}</span></div>
    ${awaitingHtml || `<div class="empty">${esc(t("empty.awaiting"))}</div>`}
    <div class="sub-head">${esc(t("panel.inProgress"))} <span class="n">${moving.length}</span></div>
    ${movingHtml || `<div class="empty">${esc(t("empty.dispatches"))}</div>`}`;
}

export function renderAlerts(ctx, view = PLAIN_VIEW) {
  const rank = { danger: 0, warning: 1 };
  const alerts = [...ctx.board.alerts].sort((a, b) => (rank[a.level] ?? 2) - (rank[b.level] ?? 2));
  $("#alert-count").textContent = alerts.length;
  const directives = new Map((ctx.board.directive ?? []).map((d) => [d.id, d]));
  // Who was told of the alarm (the notifier's messages on the record it concerns).
  const notesOf = (kind, id) => (ctx.board[kind] ?? []).find((d) => d.id === id)?.notifications ?? [];
  const told = (a) => {
    switch (a.kind) {
      case "ack_overdue":
      case "arrival_overdue":
        return notesOf("dispatch", a.dispatch_id).filter((n) => n.purpose === "escalation");
      case "handover_unconfirmed":
        return notesOf("handover", a.handover_id);
      case "disaster_report_overdue":
        return notesOf("report_schedule", a.incident_id);
      case "daily_report_missing":
        return a.units.flatMap((c) => notesOf("unit", c))
          .filter((n) => n.purpose === "daily_missing" && ctx.now - parseIso(n.queued_at) < 86_400_000);
      default:
        return [];
    }
  };
  const item = (a, title, text) => `<div class="alert ${a.level === "danger" ? "danger" : "warning"}" data-kind="${esc(a.kind)}">
      <span class="alert-icon">!</span>
      <div class="alert-main"><div class="alert-title">${esc(title)}${a.escalated ? ` <span class="alert-tag">${esc(t("alert.escalated"))}</span>` : ""}</div>
      ${text ? `<div class="alert-text">${esc(text)}</div>` : ""}${noticesHtml(told(a), 2)}${view.alertExtra(a)}</div>
      ${a.since && a.since.length > 10 ? `<span class="alert-time">${esc(fmtHM(a.since))}</span>` : ""}</div>`;
  $("#alert-list").innerHTML = alerts.map((a) => {
    switch (a.kind) {
      case "ack_overdue":
      case "arrival_overdue":
        return item(a, t(`alert.${a.kind}`), t(`alert.${a.kind}.text`, { team: a.team_name, incident: a.incident_title }));
      case "report_overdue":
        return item(a, t("alert.report_overdue"), t("alert.report_overdue.text", { incident: a.incident_title }));
      case "disaster_report_overdue":
        return item(a, t("alert.disaster_report_overdue"), t("alert.disaster_report_overdue.text", {
          incident: a.incident_title, stage: label("reportStage", a.stage),
        }));
      case "rectification_overdue":
        return item(a, t("alert.rectification_overdue"), t("alert.rectification_overdue.text", {
          unit: unitName(ctx, a.unit_code), item: label("readinessItem", a.item_id),
        }));
      case "handover_unconfirmed":
        return item(a, t("alert.handover_unconfirmed"), t("alert.handover_unconfirmed.text", { unit: unitName(ctx, a.unit_code), day: a.day }));
      case "relay_alarm":
        return item(a, t("alert.relay_alarm"), t("alert.relay_alarm.text", { detail: a.detail || "—" }));
      case "daily_report_missing":
        return item(a, t("alert.daily_report_missing", { street: unitName(ctx, a.unit_code), n: a.units.length }),
          t("alert.daily_report_missing.text", { units: a.units.map((c) => unitName(ctx, c)).join("、") }));
      case "directive": {
        const dv = directives.get(a.directive_id);
        return item(a, `${t("alert.directive")}：${a.title}`, dv?.issuer ? `${dv.issuer}${dv.level ? ` · ${dv.level}` : ""}` : "");
      }
      case "receipt_overdue":
        return item(a, `${a.exercise ? `【${label("exercise", "true")}】` : ""}${t("alert.receipt_overdue", { street: unitName(ctx, a.unit_code), n: a.units.length })}`,
          t("alert.receipt_overdue.text", { headline: a.headline, units: a.units.map((c) => unitName(ctx, c)).join("、") }));
      case "danger_overdue":
        return item(a, t("alert.danger_overdue"), t("alert.danger_overdue.text", { title: a.title, unit: unitPath(ctx, a.unit_code) }));
      case "risk_review_overdue":
        return item(a, t("alert.risk_review_overdue"), t("alert.risk_review_overdue.text", {
          title: a.title, unit: unitPath(ctx, a.unit_code), level: label("riskLevel", a.risk_level),
        }));
      case "plan_drill_lapsed":
      case "plan_revision_lapsed":
        return item(a, t(`alert.${a.kind}`), t(`alert.${a.kind}.text`, { title: a.title, unit: unitPath(ctx, a.unit_code), day: a.since }));
      case "unit_drill_lapsed":
        return item(a, t("alert.unit_drill_lapsed"), t("alert.unit_drill_lapsed.text", { unit: unitPath(ctx, a.unit_code), day: a.since }));
      case "stock_low":
        return item(a, t("alert.stock_low"), t("alert.stock_low.text", {
          warehouse: a.warehouse_name, material: materialName(a.material), available: a.available, minimum: a.minimum,
        }));
      default:
        return item(a, a.kind, a.detail || a.title || "");
    }
  }).join("") || `<div class="empty">${esc(t("empty.alerts"))}</div>`;
}

export function renderTeams(ctx, view = PLAIN_VIEW) {
  const order = TEAM_STATUSES;
  const teams = [...ctx.board.team].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || a.unit_code.localeCompare(b.unit_code) || a.name.localeCompare(b.name));
  const counts = {};
  for (const tm of teams) counts[tm.status] = (counts[tm.status] ?? 0) + 1;
  $("#team-summary").innerHTML = order.filter((s) => counts[s])
    .map((s) => `<span class="chip ts-${s}">${esc(label("teamStatus", s))} <b>${counts[s]}</b></span>`).join("");
  const incidents = new Map(ctx.board.incident.map((i) => [i.id, i]));
  $("#team-list").innerHTML = teams.map((tm) => {
    const inc = tm.incident_id ? incidents.get(tm.incident_id) : null;
    const where = inc ? ` · <span class="to">→ ${esc(inc.title)}</span>` : "";
    return `<div class="team ts-${esc(tm.status)}${tm.status === "off_duty" ? " is-off" : ""}${view.mark(tm)}" data-testid="team-${esc(tm.id)}" data-status="${esc(tm.status)}">
      <span class="team-dot"></span>
      <span class="team-name" title="${esc(tm.name)}">${esc(tm.name)}</span>
      <span class="chip ts-${esc(tm.status)}">${esc(label("teamStatus", tm.status))}</span>
      <span class="team-sub">${esc(label("teamKindShort", tm.kind))} · ${esc(t("team.members", { n: tm.members }))} · ${esc(unitName(ctx, tm.unit_code))}${where}</span>${(view.teamActions ?? PLAIN_VIEW.teamActions)(tm)}
    </div>`;
  }).join("") || `<div class="empty">${esc(t("empty.teams"))}</div>`;
}

export function linesHtml(lines) {
  return Object.entries(lines || {}).map(([code, qty]) => `<span>${esc(materialName(code))} <b>×${fmtNumber(qty)}</b>${esc(materialUnit(code))}</span>`).join("");
}

export function renderAllocations(ctx, view = PLAIN_VIEW) {
  const list = [...ctx.board.allocation].sort((a, b) => parseIso(b.requested_at) - parseIso(a.requested_at));
  $("#allocation-count").textContent = list.length;
  $("#allocation-list").innerHTML = list.map((a) => `
    <div class="alloc${view.mark(a)}" data-testid="allocation-${esc(a.id)}">
      <div class="alloc-top"><span class="chip as-${esc(a.status)}">${esc(label("allocationStatus", a.status))}</span>
        <span class="alloc-route">${esc(a.warehouse_name)}<span class="arrow">➜</span>${esc(a.destination || unitName(ctx, a.unit_code))}</span>
        <span class="alert-time">${esc(fmtHM(a.shipped_at || a.requested_at))}</span></div>
      <div class="alloc-inc">${esc(a.incident_title)}</div>
      <div class="alloc-lines">${linesHtml(a.lines)}</div>${(view.allocationActions ?? PLAIN_VIEW.allocationActions)(a)}
    </div>`).join("") || `<div class="empty">${esc(t("empty.allocations"))}</div>`;
}

export function renderWarehouses(ctx, view = PLAIN_VIEW) {
  const list = [...ctx.board.warehouse].sort((a, b) => a.unit_code.localeCompare(b.unit_code));
  let lowTotal = 0;
  const html = list.map((w) => {
    const lines = Object.entries(w.stock || {}).map(([code, l]) => {
      const available = l.on_hand - l.reserved;
      return { code, available, minimum: l.minimum, below: !!l.minimum && available < l.minimum, ratio: l.minimum ? available / l.minimum : Infinity };
    }).sort((a, b) => a.ratio - b.ratio || a.code.localeCompare(b.code));
    const below = lines.filter((l) => l.below).length;
    lowTotal += below;
    const expanded = view.expandedWh.has(w.id);
    const shown = expanded ? lines : lines.slice(0, Math.max(below, view.stockRows));
    const rows = shown.map((l) => {
      const scaleMax = Math.max(l.minimum * 3, l.available, 1);
      const pct = Math.max(0, Math.min(100, (l.available / scaleMax) * 100));
      const minPct = l.minimum ? (l.minimum / scaleMax) * 100 : null;
      return `<div class="stock-line${l.below ? " below" : ""}" data-material="${esc(l.code)}">
        <span class="stock-name" title="${esc(materialName(l.code))}">${esc(materialName(l.code))}</span>
        <span class="stock-bar"><i style="width:${pct.toFixed(1)}%"></i>${minPct !== null ? `<em style="left:${minPct.toFixed(1)}%"></em>` : ""}</span>
        <span class="stock-num">${fmtNumber(l.available)}${l.minimum ? ` / ${fmtNumber(l.minimum)}` : ""}</span>
      </div>`;
    }).join("");
    const more = view.toggleWh && (lines.length > shown.length || expanded)
      ? `<button type="button" class="wh-more" data-wh-toggle="${esc(w.id)}">${esc(expanded ? t("stock.less") : t("stock.more", { n: lines.length }))}</button>` : "";
    return `<div class="wh${below ? " low" : ""}${view.mark(w)}" data-testid="warehouse-${esc(w.id)}">
      <div class="wh-top"><span class="wh-name" title="${esc(w.name)}">${esc(w.name)}</span>
        <span class="wh-state ${below ? "bad" : "ok"}">${esc(below ? t("stock.below", { n: below }) : t("stock.ok"))}</span></div>
      ${rows}${more}
    </div>`;
  }).join("");
  $("#warehouse-summary").textContent = lowTotal ? `⚠ ${lowTotal}` : list.length;
  $("#warehouse-list").innerHTML = html || `<div class="empty">${esc(t("empty.warehouses"))}</div>`;
}

export function renderMapPanel(ctx, selectedId) {
  const rect = $("#map-box").getBoundingClientRect();
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  renderMap($("#map"), {
    units: ctx.board.unit, incidents: ctx.board.incident, teams: ctx.board.team, warehouses: ctx.board.warehouse,
    dispatches: ctx.board.dispatch, selectedId, rem,
  }, Math.round(rect.width), Math.round(rect.height));
  $("#map-legend").innerHTML = legendHtml();
}


/** A warning's level as shown everywhere: 红色预警 · 一级. */
export function warningLevelText(level) {
  return `${label("warningLevel", level)} · ${label("warningGrade", level)}`;
}

/**
 * The 预警 panel: warnings in force by level (drafts waiting for the commander after them), each with its
 * targets' receipts per street: signed, signed late, not yet signed with the time left, or overdue (an alarm).
 */
export function renderWarnings(ctx, view = PLAIN_VIEW) {
  const list = $("#warning-list");
  if (!list) return;
  const { board, now } = ctx;
  const byWarning = new Map();
  for (const r of board.warning_receipt ?? []) {
    if (!byWarning.has(r.warning_id)) byWarning.set(r.warning_id, []);
    byWarning.get(r.warning_id).push(r);
  }
  const rank = (w) => (w.status === "draft" ? 2 : warningInForce(w, now) ? 0 : 1);
  const warnings = (board.warning ?? []).filter((w) => warningShown(w, now)).sort((a, b) => rank(a) - rank(b) || WARNING_LEVELS.indexOf(a.level) - WARNING_LEVELS.indexOf(b.level)
    || parseIso(b.issued_at ?? b.drafted_at) - parseIso(a.issued_at ?? a.drafted_at));
  $("#warning-count").textContent = warnings.filter((w) => warningInForce(w, now)).length;
  list.innerHTML = warnings.map((w) => {
    const shown = warningShownStatus(w, now);
    const receipts = (byWarning.get(w.id) ?? []).sort((a, b) => a.unit_code.localeCompare(b.unit_code));
    const states = receipts.map((r) => receiptState(r, now));
    const signed = states.filter((x) => x === "signed" || x === "late").length;
    const overdue = states.filter((x) => x === "overdue").length;
    const live = shown === "issued";
    const streets = new Map();
    receipts.forEach((r, k) => {
      const street = streetOf(r.unit_code);
      if (!streets.has(street)) streets.set(street, []);
      streets.get(street).push([r, states[k]]);
    });
    const streetRows = [...streets.entries()].map(([street, rows]) => {
      const done = rows.filter(([, st]) => st === "signed" || st === "late").length;
      const chips = rows.map(([r, st]) => `<span class="rc rs-${st}" data-testid="receipt-${esc(w.id)}-${esc(r.unit_code)}" data-state="${esc(st)}"
        title="${esc(label("receiptStatus", st))}${r.signed_at ? ` ${esc(fmtHM(r.signed_at))}` : ""}">${esc(unitName(ctx, r.unit_code))}${st === "late" || st === "signed" ? " ✓" : ""}</span>`).join("");
      return `<div class="warn-street"><div class="ws-head"><span>${esc(unitName(ctx, street))}</span><b>${done}/${rows.length}</b></div><div class="ws-chips">${chips}</div></div>`;
    }).join("");
    const pending = live && receipts.some((r) => !r.signed_at);
    const clock = pending && w.receipt_deadline
      ? `<div class="countdown"><span class="cd" data-deadline="${esc(w.receipt_deadline)}">${esc(countdownParts(w.receipt_deadline, now).text)}</span><span class="cd-label">${esc(countdownParts(w.receipt_deadline, now).label)}</span></div>`
      : "";
    const drill = w.exercise ? `<span class="drill-tag">${esc(label("exercise", "true"))}</span>` : "";
    const when = w.issued_at
      ? `${esc(t("warning.issuedAt", { time: fmtHM(w.issued_at) }))} · ${esc(t("warning.expiresAt", { time: fmtDateTime(w.expires) }))}`
      : esc(t("warning.draftedBy", { who: w.drafted_by?.name || w.drafted_by?.user || "" }));
    return `<article class="warn wl-${esc(w.level)}${w.exercise ? " is-drill" : ""}${overdue && live ? " overdue" : ""}${view.mark(w)}" data-testid="warning-${esc(w.id)}" data-status="${esc(shown)}">
      <div class="warn-top"><span class="wl-chip wl-${esc(w.level)}">${esc(warningLevelText(w.level))}</span>${drill}
        <span class="warn-status">${esc(label("warningStatus", shown))}${w.version > 1 ? ` · ${esc(t("warning.version", { n: w.version }))}` : ""}</span>${clock}</div>
      <div class="warn-headline">${esc(w.headline)}</div>
      <div class="warn-sub">${esc(label("subtype", w.subtype))} · ${esc(label("warningSource", w.source))} · ${when}</div>
      ${receipts.length ? `<div class="warn-sum">${esc(t("warning.signedOf", { n: signed, total: receipts.length }))}${overdue && live ? ` · <span class="hot">${esc(t("warning.overdueN", { n: overdue }))}</span>` : ""}</div>` : ""}
      ${noticesHtml([...(w.notifications ?? []), ...receipts.flatMap((r) => r.notifications ?? [])], 0)}
      ${streetRows}
      ${view.warningActions(w, receipts)}
    </article>`;
  }).join("") || `<div class="empty">${esc(t("empty.warnings"))}</div>`;
}

// ------------------------------------------------------------------ 双重预防: the 隐患 panel (board and replay)
/** Per street the hidden dangers open, overdue and 重大 open (board.dangers_by_street), then every 重大 one until 销号. */
export function renderDangers(ctx) {
  const box = $("#danger-list");
  if (!box) return;
  const counts = ctx.board.dangers_by_street ?? {};
  const dangers = ctx.board.hidden_danger ?? [];
  const codes = Object.keys(counts).sort();
  const total = { open: 0, overdue: 0, major_open: 0 };
  const cell = (v, cls) => `<td class="${v ? cls : "zero"}">${v}</td>`;
  const rows = codes.map((code) => {
    const c = counts[code];
    for (const k of Object.keys(total)) total[k] += c[k];
    return `<tr data-danger-street="${esc(code)}"><td>${esc(unitName(ctx, code))}</td>${cell(c.open, "busy")}${cell(c.overdue, "hot")}${cell(c.major_open, "hot")}</tr>`;
  }).join("");
  const count = $("#danger-count");
  if (count) count.textContent = total.open;
  const now = ctx.now;
  const major = dangers.filter((h) => h.grade === "major").sort((a, b) => (a.deadline ?? "").localeCompare(b.deadline ?? ""));
  const majorHtml = major.map((h) => {
    const late = h.deadline && parseIso(h.deadline) < now && h.status === "rectifying";
    return `<div class="danger-major${late ? " is-late" : ""}" data-testid="danger-${esc(h.id)}">
      <div class="danger-title"><span class="chip grade-major">${esc(label("dangerGrade", "major"))}</span> ${esc(h.title)}</div>
      <div class="danger-meta">${esc(unitPath(ctx, h.unit_code))} · ${esc(label("dangerStatus", h.status))}${h.deadline ? ` · ${esc(t("danger.deadline"))} ${esc(fmtDateTime(h.deadline))}` : ""}${h.supervision ? ` · ${esc(t("danger.supervised"))}` : ""}</div></div>`;
  }).join("");
  box.innerHTML = codes.length ? `<table class="tbl"><thead><tr><th>${esc(t("streets.street"))}</th><th>${esc(t("danger.open"))}</th><th>${esc(t("danger.overdue"))}</th><th>${esc(t("danger.majorOpen"))}</th></tr></thead>
    <tbody>${rows}<tr class="total"><td>${esc(t("streets.total"))}</td><td>${total.open}</td><td>${total.overdue}</td><td>${total.major_open}</td></tr></tbody></table>
    <div class="sub-head">${esc(t("danger.majorList"))} <span class="n">${major.length}</span></div>${majorHtml}`
    : `<div class="empty">${esc(t("empty.dangers"))}</div>`;
}

/** 就绪: the street's 1+4 and 六有 items met of total and its villages complete under 1+3 (readiness_by_street), on
 * the live board a link to the readiness page at that street (replay shows them as they stood, without it); red
 * while short. */
function readinessCell(row, code, link) {
  if (!row) return `<td class="zero">—</td>`;
  // the street's own standards first (1+4, 六有), then its villages' (1+3)
  const own = (s) => (READINESS_STANDARD_KINDS[s].includes(STREET_KINDS[0]) ? 0 : 1);
  const parts = [...READINESS_STANDARDS].sort((a, b) => own(a) - own(b)).filter((s) => row[s]?.[1]).map((s) => {
    const [met, of] = row[s];
    return `<span class="${met < of ? "hot" : "idle"}" data-readiness="${esc(s)}">${esc(label("readinessStandard", s))} ${met}/${of}</span>`;
  });
  const body = link ? `<a href="readiness.html?street=${esc(code)}">${parts.join(" ")}</a>` : parts.join(" ");
  return `<td class="readiness-cell" data-readiness-street="${esc(code)}">${body}</td>`;
}

/** 街道统计: per street, its open incidents, dispatches, teams, today's 零报告 and its readiness. */
export function renderStreets(ctx, { link = true } = {}) {
  const counts = ctx.board.counts_by_street;
  const streets = ctx.board.unit.filter((u) => u.kind === "street" || u.kind === "cluster").sort((a, b) => a.code.localeCompare(b.code));
  const codes = streets.map((s) => s.code);
  for (const code of Object.keys(counts)) if (!codes.includes(code)) codes.unshift(code); // district-level rows
  const zero = { incidents: 0, dispatches: 0, teams_busy: 0, teams_idle: 0, daily_due: 0, daily_filed: 0 };
  const total = { ...zero };
  const maxInc = Math.max(1, ...codes.map((c) => counts[c]?.incidents ?? 0));
  const hues = [205, 160, 265, 35, 330, 95, 185, 300];
  // 零报告 filed today / due, red while any unit is silent.
  const daily = (c) => c.daily_due ? `<td class="${c.daily_filed < c.daily_due ? "hot" : "idle"}" data-daily="${c.daily_filed}/${c.daily_due}">${c.daily_filed}/${c.daily_due}</td>` : `<td class="zero">—</td>`;
  const rows = codes.map((code) => {
    const c = { ...zero, ...(counts[code] ?? {}) };
    for (const k of Object.keys(total)) total[k] += c[k];
    const si = streets.findIndex((s) => s.code === code);
    const swatch = si >= 0 ? `<span class="swatch" style="background:hsl(${hues[si % hues.length]},70%,62%)"></span>` : `<span class="swatch" style="background:#7fb2ff"></span>`;
    const cell = (v, cls) => `<td class="${v ? cls : "zero"}">${v}</td>`;
    const bar = c.incidents ? `<span class="bar-cell" style="width:${(c.incidents / maxInc) * 2.5}rem"></span>` : "";
    return `<tr data-street="${esc(code)}"><td>${swatch}${esc(unitName(ctx, code))}</td><td class="${c.incidents ? "hot" : "zero"}">${bar}${c.incidents}</td>${cell(c.dispatches, "busy")}${cell(c.teams_busy, "busy")}${cell(c.teams_idle, "idle")}${daily(c)}${readinessCell(ctx.board.readiness_by_street?.[code], code, link)}</tr>`;
  }).join("");
  $("#street-list").innerHTML = `<table class="tbl"><thead><tr><th>${esc(t("streets.street"))}</th><th>${esc(t("streets.incidents"))}</th><th>${esc(t("streets.dispatches"))}</th><th>${esc(t("streets.busy"))}</th><th>${esc(t("streets.idle"))}</th><th>${esc(t("streets.daily"))}</th><th>${esc(t("streets.readiness"))}</th></tr></thead>
    <tbody>${rows}<tr class="total"><td>${esc(t("streets.total"))}</td><td>${total.incidents}</td><td>${total.dispatches}</td><td>${total.teams_busy}</td><td>${total.teams_idle}</td>${daily(total)}<td></td></tr></tbody></table>`;
}
