// The standard form of a staged disaster report (自然灾害情况统计表), for printing: the figures of
// GET /disaster-reports/{id} under the glossary's words and units, in the form's order; no raw codes.
// The print stylesheet (desk.css) leaves only the paper.
import * as api from "./api.js";
import { esc, fmtDateTime, fmtNumber } from "./format.js";
import { label, t } from "./i18n.js";
import { showProblem, startDesk } from "./desk.js";
import { REPORT_FIGURES, REPORT_SECTORS } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const state = { report: null, unit: null };

$("#print-btn").addEventListener("click", () => window.print());
startDesk({ route: "GET /disaster-reports/{report_id}", onStart: start, onLang: render });

async function start() {
  const id = new URLSearchParams(location.search).get("id") ?? "";
  try {
    state.report = await api.get(`/disaster-reports/${encodeURIComponent(id)}`);
    state.unit = await api.get(`/units/${encodeURIComponent(state.report.unit_code)}`).catch(() => null);
    render();
  } catch (e) {
    showProblem($("#form-error"), e);
  }
}

function who(actor) {
  return actor ? actor.name || actor.user : "";
}

function render() {
  const r = state.report;
  if (!r) return;
  const stage = label("reportStage", r.stage);
  document.title = `${t("form.heading", { stage })} · ${r.incident_title}`;
  const row = (code, group, kind, value) => `<tr data-code="${esc(code)}"><th scope="row">${esc(label(group, code))}</th>
    <td class="num" data-value="${esc(value)}">${esc(fmtNumber(value))}</td><td>${esc(label("figureUnit", kind))}</td></tr>`;
  const sectors = REPORT_SECTORS.filter((s) => s in (r.sectors ?? {}));
  $("#paper").innerHTML = `<h1>${esc(t("form.heading", { stage }))}</h1>
    <table class="meta"><tbody>
      <tr><td>${esc(t("form.unit"))}</td><td>${esc(state.unit?.name ?? "")}</td><td>${esc(t("reports.status"))}</td><td>${esc(label("reportStatus", r.status))}</td></tr>
      <tr><td>${esc(t("form.incident"))}</td><td>${esc(r.incident_title)}</td><td>${esc(t("form.occurred"))}</td><td>${esc(r.day)}</td></tr>
    </tbody></table>
    <table class="figures"><thead><tr><th scope="col">${esc(t("form.item"))}</th><th scope="col" class="num">${esc(t("form.value"))}</th><th scope="col">${esc(t("form.unitOf"))}</th></tr></thead>
      <tbody>${REPORT_FIGURES.map((f) => row(f.code, "reportFigure", f.kind, r.figures[f.code])).join("")}</tbody></table>
    ${sectors.length ? `<h2>${esc(t("form.sectors"))}</h2><table class="figures"><tbody>${sectors.map((s) => row(s, "reportSector", "money", r.sectors[s])).join("")}</tbody></table>` : ""}
    <p><strong>${esc(t("reports.notes"))}：</strong>${esc(r.notes || "—")}</p>
    <div class="signatures">
      <span>${esc(t("form.drafter"))}：${esc(who(r.drafted_by))}</span>
      <span>${esc(t("form.signer"))}：${esc(who(r.signed_by))}</span>
      <span>${esc(t("form.submittedAt"))}：${esc(r.submitted_at ? fmtDateTime(r.submitted_at) : "—")}</span>
    </div>`;
}
