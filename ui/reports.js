// Staged disaster reports (灾情报告): what each natural disaster owes now (初报 within 2 hours, 续报 daily
// for level I and II, 核报 after control; the server judges, GET /disaster-reports/due), and the reports:
// drafted and revised at the desk, signed off by a commander, submitted upward (the relay carries the
// submission to the city, whose acknowledgement is recorded). Printable as the standard form
// (report-form.html) and exportable as .xlsx. The buttons follow the role × route table (vocab.js `can`).
import * as api from "./api.js";
import { esc, fmtDateTime, fmtNumber, parseIso } from "./format.js";
import { label, t } from "./i18n.js";
import { may, problemText, showProblem, startDesk, toast } from "./desk.js";
import { FIGURE_BOUNDS, FIGURE_WHOLE_KINDS, REPORT_EDITABLE, REPORT_FIGURES, REPORT_SECTORS, REPORT_STAGES, REPORT_STATUSES,
  STAGED_CATEGORIES, command, known } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const state = { user: null, due: [], reports: [], incidents: [], editing: null };
const ROUTES = {
  draft: "POST /incidents/{incident_id}/disaster-reports",
  revise: "POST /disaster-reports/{report_id}/revise",
  signOff: "POST /disaster-reports/{report_id}/sign-off",
  submit: "POST /disaster-reports/{report_id}/submit",
  xlsx: "GET /disaster-reports/{report_id}/xlsx",
};
const [DRAFT, SIGNED] = REPORT_STATUSES; // draft → signed → submitted → acknowledged

$("#new-btn").dataset.command = known(ROUTES.draft);
$("#new-btn").addEventListener("click", () => openForm(null, null));
$("#report-form").addEventListener("submit", save);
$("#report-cancel").addEventListener("click", () => $("#report-dialog").close());
document.body.addEventListener("click", onAction);
setInterval(() => state.user && load().catch(() => {}), 60_000);
startDesk({ route: "GET /disaster-reports", onStart: start, onLang: render, onSignOut: () => { state.user = null; } });

async function start(user) {
  state.user = user;
  $("#new-btn").hidden = !may(user, ROUTES.draft);
  await load();
}

async function load(minPosition = 0) {
  const mp = minPosition ? `min_position=${minPosition}` : "";
  const [due, reports, incidents] = await Promise.all([
    api.get(`/disaster-reports/due${mp ? `?${mp}` : ""}`),
    api.get(`/disaster-reports?limit=1000${mp ? `&${mp}` : ""}`),
    api.get("/incidents?limit=1000"),
  ]);
  state.due = due.items;
  state.reports = reports.items.sort((a, b) => parseIso(b.updated_at) - parseIso(a.updated_at));
  state.incidents = incidents.items.filter((i) => STAGED_CATEGORIES.includes(i.category) && i.status !== "dismissed");
  render();
}

function statusChip(status) {
  const cls = status === DRAFT ? "warn" : status === SIGNED ? "" : "ok";
  return `<span class="chip ${cls}">${esc(label("reportStatus", status))}</span>`;
}

function render() {
  if (!state.user) return;
  $("#due-body").innerHTML = state.due.map((o) => {
    const chip = o.escalated ? `<span class="chip bad">${esc(t("reports.escalated"))}</span>` : o.overdue ? `<span class="chip bad">${esc(t("reports.overdue"))}</span>` : "";
    const report = o.report_id ? state.reports.find((r) => r.id === o.report_id) : null;
    const act = !o.report_id && may(state.user, ROUTES.draft)
      ? `<button class="btn btn-primary" type="button" data-act="draft" data-incident="${esc(o.incident_id)}" data-stage="${esc(o.stage)}" ${command(ROUTES.draft)}>${esc(t("reports.draft"))}</button>`
      : report ? actionsHtml(report) : "";
    return `<tr data-incident="${esc(o.incident_id)}" data-stage="${esc(o.stage)}">
      <td>${esc(o.incident_title)}</td><td>${esc(label("reportStage", o.stage))}</td>
      <td>${esc(fmtDateTime(o.due_at))} ${chip}</td><td>${o.report_status ? statusChip(o.report_status) : "—"}</td>
      <td class="actions">${act}</td></tr>`;
  }).join("") || `<tr><td colspan="5" class="muted">${esc(t("reports.noDue"))}</td></tr>`;
  $("#list-body").innerHTML = state.reports.map((r) => {
    const timing = r.in_time === null ? "" : `<span class="chip ${r.in_time ? "ok" : "bad"}">${esc(t(r.in_time ? "reports.inTime" : "reports.late"))}</span>`;
    const ack = r.acknowledged_at ? `<div class="muted">${esc(t("reports.cityAck", { time: fmtDateTime(r.acknowledged_at) }))}</div>` : "";
    return `<tr data-id="${esc(r.id)}" data-status="${esc(r.status)}">
      <td>${esc(r.incident_title)}</td><td>${esc(label("reportStage", r.stage))}</td><td>${esc(r.day)}</td>
      <td>${statusChip(r.status)} ${timing}${ack}</td><td class="num">${fmtNumber(r.figures.affected_population)}</td>
      <td class="actions">${actionsHtml(r)}</td></tr>`;
  }).join("") || `<tr><td colspan="6" class="muted">${esc(t("reports.none"))}</td></tr>`;
}

function actionsHtml(r) {
  const routeOf = { edit: ROUTES.revise, "sign-off": ROUTES.signOff, submit: ROUTES.submit };
  const b = (act, text, cls = "btn-ghost") => `<button class="btn ${cls}" type="button" data-act="${act}" data-id="${esc(r.id)}"${routeOf[act] ? ` ${command(routeOf[act])}` : ""}>${esc(t(text))}</button>`;
  const out = [];
  if (REPORT_EDITABLE.includes(r.status) && may(state.user, ROUTES.revise)) out.push(b("edit", "reports.edit"));
  if (r.status === DRAFT && may(state.user, ROUTES.signOff)) out.push(b("sign-off", "reports.signOff", "btn-primary"));
  if (r.status === SIGNED && may(state.user, ROUTES.submit)) out.push(b("submit", "reports.submit", "btn-danger"));
  out.push(`<a class="btn btn-ghost" href="report-form.html?id=${encodeURIComponent(r.id)}">${esc(t("reports.print"))}</a>`);
  if (may(state.user, ROUTES.xlsx)) out.push(b("xlsx", "reports.xlsx"));
  return out.join("");
}

async function onAction(e) {
  const btn = e.target.closest("[data-act]");
  if (!btn) return;
  const report = state.reports.find((r) => r.id === btn.dataset.id);
  $("#action-error").hidden = true;
  try {
    switch (btn.dataset.act) {
      case "draft":
        return openForm(btn.dataset.incident, btn.dataset.stage);
      case "edit":
        return openForm(report.incident_id, report.stage, report);
      case "sign-off": {
        btn.disabled = true;
        const r = await new api.Command(`/disaster-reports/${report.id}/sign-off`).send({ note: "" });
        toast(t("reports.signed"));
        return load(r.position);
      }
      case "submit": {
        btn.disabled = true;
        const r = await new api.Command(`/disaster-reports/${report.id}/submit`).send(undefined);
        toast(t("reports.submitted"));
        return load(r.position);
      }
      case "xlsx":
        return api.downloadFile(`/disaster-reports/${report.id}/xlsx`, `${report.day}-${label("reportStage", report.stage)}-${report.incident_title}.xlsx`);
      default:
        return undefined;
    }
  } catch (ex) {
    btn.disabled = false;
    showProblem($("#action-error"), ex);
    toast(problemText(ex), true);
  }
}

function numberField(name, group, code, kind, value) {
  const whole = FIGURE_WHOLE_KINDS.includes(kind);
  return `<label class="field"><span>${esc(label(group, code))} <span class="unit-of">（${esc(label("figureUnit", kind))}）</span></span>
    <input type="number" name="${esc(name)}" data-code="${esc(code)}" data-kind="${esc(kind)}" min="0" max="${FIGURE_BOUNDS[kind]}"
      step="${whole ? 1 : 0.01}" inputmode="${whole ? "numeric" : "decimal"}" value="${value ?? ""}"></label>`;
}

function openForm(incidentId, stage, report = null) {
  state.editing = report;
  const incident = state.incidents.find((i) => i.id === incidentId);
  $("#report-dialog-h").textContent = report || incident
    ? t("reports.formTitle", { stage: label("reportStage", stage), incident: report?.incident_title ?? incident?.title ?? "" })
    : t("reports.new");
  $("#choose").hidden = !!report;
  $("#incident-select").innerHTML = state.incidents.map((i) => `<option value="${esc(i.id)}"${i.id === incidentId ? " selected" : ""}>${esc(i.title)} · ${esc(label("incidentStatus", i.status))}</option>`).join("");
  $("#stage-select").innerHTML = REPORT_STAGES.map((s) => `<option value="${esc(s)}"${s === stage ? " selected" : ""}>${esc(label("reportStage", s))}</option>`).join("");
  $("#figure-fields").innerHTML = REPORT_FIGURES.map((f) => numberField(`figure-${f.code}`, "reportFigure", f.code, f.kind, report?.figures?.[f.code])).join("");
  $("#sector-fields").innerHTML = REPORT_SECTORS.map((s) => numberField(`sector-${s}`, "reportSector", s, "money", report?.sectors?.[s])).join("");
  $("#report-notes").value = report?.notes ?? "";
  $("#report-error").hidden = true;
  $("#report-dialog").showModal();
}

function numbers(container) {
  const out = {};
  for (const el of container.querySelectorAll("input[data-code]")) {
    if (el.value.trim() === "") continue;
    const v = Number(el.value);
    out[el.dataset.code] = FIGURE_WHOLE_KINDS.includes(el.dataset.kind) && Number.isInteger(v) ? Math.trunc(v) : v;
  }
  return out;
}

async function save(e) {
  e.preventDefault();
  const body = { figures: numbers($("#figure-fields")), sectors: numbers($("#sector-fields")), notes: $("#report-notes").value.trim() };
  const btn = $("#report-save");
  btn.disabled = true;
  try {
    let r;
    if (state.editing) {
      r = await new api.Command(`/disaster-reports/${state.editing.id}/revise`).send(body);
    } else {
      r = await new api.Command(`/incidents/${$("#incident-select").value}/disaster-reports`).send({ ...body, stage: $("#stage-select").value });
    }
    $("#report-dialog").close();
    toast(t("reports.saved"));
    await load(r.position);
  } catch (ex) {
    showProblem($("#report-error"), ex);
  } finally {
    btn.disabled = false;
  }
}
