// The disaster information reporter's phone (灾害信息员): today's daily report for the village or
// community, filed with one tap when nothing happened (零报告) or with a few words when something
// did, and the week behind it. Filing the day again corrects it. Each submit keeps its
// Idempotency-Key until the server answers (api.Command), so a retry on a weak network applies once.
import * as api from "./api.js";
import { esc, fmtHM } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { DAILY_REPORT_DUE, REPORTING_KINDS, shanghaiDay } from "./board-model.js";
import { startSession } from "./shell.js";
import { known } from "./vocab.js";
import { pushButton } from "./notify.js";
import { IncidentForm } from "./reporter-incident.js";
import { WarningsTab } from "./reporter-warnings.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const $ = (sel) => document.querySelector(sel);
const state = { user: null, unit: null, today: null, week: [], warnings: null, incidentForm: null, tab: "daily" };
const fileCommand = new api.Command("/reports/daily");
let toastTimer = null;
let session = null; // the shell's sign-in and sign-out (ui/shell.js)

function init() {
  pushButton($("#push-enable"), "reporter");
  $("#file-zero").addEventListener("click", () => file(true, ""));
  for (const id of ["#file-zero", "#file-news"]) $(id).dataset.command = known("POST /reports/daily");
  $("#report-incident").dataset.command = known("POST /incidents");
  $("#file-news").addEventListener("click", openSheet);
  $("#sheet-form").addEventListener("submit", onSheetSubmit);
  $("#sheet-cancel").addEventListener("click", () => $("#sheet").close());
  for (const tab of document.querySelectorAll("[data-tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  onLangChange(() => {
    render();
    state.warnings?.render();
    state.incidentForm?.renderOpen();
  });
  session = startSession({ onStart: () => start(), onSignOut: clearReporter });
  setInterval(render, 30_000); // the countdown to 16:00
}

/** Signed out: the warnings tab stops following and the page forgets the unit it reported for. */
function clearReporter() {
  state.warnings?.stop();
  state.warnings = null;
  state.user = state.unit = state.today = null;
}

async function start() {
  state.user = api.getUser();
  const unit = await api.get(`/units/${encodeURIComponent(state.user.unit_code)}`);
  if (!REPORTING_KINDS.has(unit.kind)) {
    session.signOut(t("reporter.login.notReporter")); // a village's or community's account only
    return;
  }
  state.unit = unit;
  $("#login").hidden = true;
  $("#app").hidden = false;
  state.warnings?.stop();
  state.warnings = new WarningsTab({ unitCode: unit.code, toast, onNew: () => showTab("warnings") });
  state.warnings.start();
  // One outbox per phone: the incident report queues with the warnings tab's taps.
  if (!state.incidentForm) {
    state.incidentForm = new IncidentForm({ outbox: state.warnings.outbox, unit, toast, reporterName: state.user.display_name });
    state.incidentForm.start();
  }
  Object.assign(state.incidentForm, { outbox: state.warnings.outbox, unit, reporterName: state.user.display_name });
  state.warnings.onSettled = (item, outcome) => state.incidentForm.settled(item, outcome);
  await Promise.all([load(), state.incidentForm.loadOpen()]);
}

/** 零报告 or 预警: a new warning opens its tab by itself. */
function showTab(name) {
  state.tab = name;
  for (const tab of document.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  $("#main").hidden = name !== "daily";
  $("#warnings").hidden = name !== "warnings";
  if (name === "warnings") state.warnings?.render();
}

/** Today and the six days before it, as the server counts them (its clock decides "today"). */
async function load(minPosition = 0) {
  const today = await api.get(`/reports/daily${minPosition ? `?min_position=${minPosition}` : ""}`);
  const serverDayMs = Date.parse(`${today.day}T12:00:00+08:00`);
  const days = [...Array(6)].map((_, i) => shanghaiDay(serverDayMs - (i + 1) * DAY_MS).day);
  const week = await Promise.all(days.map((d) => api.get(`/reports/daily?day=${d}`)));
  state.today = { ...today, item: today.items.find((i) => i.unit_code === state.unit.code) };
  state.week = week.map((w) => ({ day: w.day, item: w.items.find((i) => i.unit_code === state.unit.code) }));
  render();
}

async function file(zero, summary) {
  if (!state.today) return;
  const buttons = [$("#file-zero"), $("#file-news"), $("#sheet-submit")];
  buttons.forEach((b) => (b.disabled = true));
  try {
    const answer = await fileCommand.send({ unit_code: state.unit.code, day: state.today.day, zero, summary });
    if ($("#sheet").open) $("#sheet").close();
    toast(zero ? t("reporter.filedZero") : t("reporter.filedNews"));
    await load(answer.position);
  } catch (ex) {
    const why = ex.code === "network" ? t("reporter.offline") : `${ex.heading}${ex.detail ? ` — ${ex.detail}` : ""}`;
    if ($("#sheet").open) {
      $("#sheet-error").hidden = false;
      $("#sheet-error").textContent = why;
    } else {
      toast(why);
    }
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

function openSheet() {
  $("#sheet-error").hidden = true;
  const item = state.today?.item;
  $("#news-summary").value = item && !item.zero ? item.summary : "";
  $("#sheet").showModal();
  $("#news-summary").focus();
}

function onSheetSubmit(e) {
  e.preventDefault();
  const summary = $("#news-summary").value.trim();
  if (!summary) {
    $("#sheet-error").hidden = false;
    $("#sheet-error").textContent = t("reporter.needSummary");
    return;
  }
  file(false, summary);
}

function statusText(item) {
  if (!item || item.status !== "filed") return t(`reporter.status.${item?.status ?? "due"}`);
  return item.zero ? t("reporter.status.zero") : t("reporter.status.news");
}

function render() {
  if (!state.unit || !state.today) return;
  $("#unit-name").textContent = state.unit.name;
  $("#user-name").textContent = state.user.display_name || state.user.username;
  const item = state.today.item;
  const status = item?.status ?? "due";
  const { hhmm } = shanghaiDay(Date.now());
  const shownStatus = status === "due" && hhmm >= DAILY_REPORT_DUE ? "missing" : status;
  const card = $("#today-card");
  card.dataset.status = shownStatus;
  $("#today-day").textContent = t("reporter.dayOf", { day: state.today.day });
  $("#today-state").textContent = statusText({ ...item, status: shownStatus });
  $("#today-due").textContent = status === "filed"
    ? t(item.late ? "reporter.filedLateAt" : "reporter.filedAt", { time: fmtHM(item.filed_at), who: item.filed_by?.name || item.filed_by?.user || "" })
      + (item.corrections ? ` · ${t("reporter.corrections", { n: item.corrections })}` : "")
    : t(shownStatus === "missing" ? "reporter.overdue" : "reporter.dueBy", { time: DAILY_REPORT_DUE });
  const summary = $("#today-summary");
  summary.hidden = !(item && !item.zero && item.summary);
  summary.textContent = item?.summary ?? "";
  $("#file-zero").textContent = t(status === "filed" ? "reporter.correctZero" : "reporter.fileZero");
  $("#file-news").textContent = t(status === "filed" ? "reporter.correctNews" : "reporter.fileNews");
  $("#week-list").innerHTML = state.week.map(({ day, item: w }) => {
    const st = w?.status ?? "missing";
    const note = w?.status === "filed" ? (w.zero ? "" : w.summary) + (w.late ? ` ${t("reporter.late")}` : "") : "";
    return `<li data-day="${esc(day)}"><span class="d">${esc(day)}</span><span class="s" data-status="${esc(st)}">${esc(statusText(w ?? { status: "missing" }))}</span><span class="n">${esc(note)}</span></li>`;
  }).join("");
  $("#foot-info").textContent = `${state.unit.code}`;
}

function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 3000);
}

init();
