// Statistics (统计分析): the period summary of GET /reports/summary, per street and per type, with
// response times and materials used; the same figures as an Excel workbook, and a day's zero
// reports as one. Charts are drawn as SVG from the server's figures; each has its table or labels.
import * as api from "./api.js";
import { esc, fmtNumber } from "./format.js";
import { label, materialName, onLangChange, setMaterials, t } from "./i18n.js";
import { startShell } from "./shell.js";
import { LEVELS, REPORTING_KINDS, SHANGHAI_UTC_OFFSET_MS, SITUATION_FIELDS, WARNING_LEVELS, can, known } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const LEVEL_COLOURS = { I: "#ff3b3b", II: "#ff8a1f", III: "#ffd21f", IV: "#3d8bff" };
const state = { units: [], summary: null };

// ------------------------------------------------------------------ the window, in Beijing days

function shanghaiDay(ms) {
  return new Date(ms + SHANGHAI_UTC_OFFSET_MS).toISOString().slice(0, 10);
}

function offset() {
  const minutes = SHANGHAI_UTC_OFFSET_MS / 60000;
  return `+${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

function applyPreset(preset) {
  const today = shanghaiDay(Date.now());
  const tomorrow = addDays(today, 1);
  const since = { 7: addDays(today, -6), 30: addDays(today, -29), month: `${today.slice(0, 8)}01`, year: `${today.slice(0, 5)}01-01` }[preset];
  if (!since) return;
  $("#w-since").value = since;
  $("#w-until").value = tomorrow;
}

function windowParams() {
  return new URLSearchParams({ start: `${$("#w-since").value}T00:00:00${offset()}`, end: `${$("#w-until").value}T00:00:00${offset()}` });
}

function writeAddress() {
  const h = `#preset=${$("#w-preset").value}&since=${$("#w-since").value}&until=${$("#w-until").value}`;
  if (location.hash !== h) history.replaceState(null, "", h);
}

function readAddress() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  const preset = h.get("preset") || "30";
  $("#w-preset").value = [...$("#w-preset").options].some((o) => o.value === preset) ? preset : "30";
  applyPreset($("#w-preset").value);
  if (h.get("since")) $("#w-since").value = h.get("since");
  if (h.get("until")) $("#w-until").value = h.get("until");
}

// ------------------------------------------------------------------ drawing

function unitName(code) {
  return state.units.find((u) => u.code === code)?.name || code;
}

function showError(ex) {
  const el = $("#stats-error");
  el.hidden = !ex;
  if (ex) el.textContent = `${ex.heading || ""}${ex.detail ? ` — ${ex.detail}` : ""}`;
}

/** Horizontal bars, one per row, each split into coloured parts; `title` names the chart for screen readers. */
function bars(rows, parts, title) {
  if (!rows.length) return `<p class="empty">${esc(t("stats.none"))}</p>`;
  const max = Math.max(1, ...rows.map((r) => parts.reduce((s, p) => s + (r.values[p.key] || 0), 0)));
  const rowH = 28;
  const labelW = 150;
  const width = 720;
  const h = rows.length * rowH + 8;
  const svg = rows.map((r, i) => {
    let x = labelW;
    const y = i * rowH + 4;
    const segs = parts.map((p) => {
      const w = ((r.values[p.key] || 0) / max) * (width - labelW - 50);
      const seg = w > 0 ? `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" fill="${p.colour}"/>` : "";
      x += w;
      return seg;
    }).join("");
    const total = parts.reduce((s, p) => s + (r.values[p.key] || 0), 0);
    return `<text x="${labelW - 8}" y="${y + rowH / 2}" text-anchor="end">${esc(r.label)}</text>${segs}` +
      `<text x="${(x + 6).toFixed(1)}" y="${y + rowH / 2}" class="axis">${fmtNumber(total)}</text>`;
  }).join("");
  const summary = rows.map((r) => `${r.label} ${parts.map((p) => `${p.name} ${r.values[p.key] || 0}`).join("，")}`).join("；");
  const legend = parts.length > 1
    ? `<ul class="legend">${parts.map((p) => `<li><i style="background:${p.colour}"></i>${esc(p.name)}</li>`).join("")}</ul>` : "";
  return `${legend}<svg viewBox="0 0 ${width} ${h}" role="img" aria-label="${esc(`${title}：${summary}`)}" dominant-baseline="middle">${svg}</svg>`;
}

function render() {
  const s = state.summary;
  if (!s) return;
  const harm = (k) => Object.values(s.by_street).reduce((n, r) => n + (r.situation[k] || 0), 0);
  const kpis = [["stats.incidents", s.incidents], ["stats.dispatches", s.dispatches], ["stats.teamsUsed", s.teams_used],
    ...SITUATION_FIELDS.map((k) => [null, harm(k), label("situation", k)])];
  $("#kpis").innerHTML = kpis.map(([key, v, name]) => `<dl class="stat-kpi"><dt>${esc(name || t(key))}</dt><dd>${fmtNumber(v)}</dd></dl>`).join("");

  const levelParts = LEVELS.map((lv) => ({ key: lv, name: label("levelShort", lv), colour: LEVEL_COLOURS[lv] }));
  const streets = Object.entries(s.by_street);
  $("#street-chart").innerHTML = bars(streets.map(([code, r]) => ({ label: unitName(code), values: r.by_level })), levelParts, t("stats.byStreet"));
  const cols = ["stats.street", "stats.incidents", ...LEVELS.map((lv) => label("levelShort", lv)), ...SITUATION_FIELDS.map((k) => label("situation", k)),
    "stats.dispatches", "stats.inTime", "stats.late"];
  $("#street-head").innerHTML = `<tr>${cols.map((c) => `<th scope="col">${esc(c.startsWith("stats.") ? t(c) : c)}</th>`).join("")}</tr>`;
  $("#street-body").innerHTML = streets.length
    ? streets.map(([code, r]) => `<tr><th scope="row">${esc(unitName(code))}</th><td>${r.incidents}</td>${LEVELS.map((lv) => `<td>${r.by_level[lv] || 0}</td>`).join("")}
      ${SITUATION_FIELDS.map((k) => `<td>${r.situation[k] || 0}</td>`).join("")}<td>${r.dispatches}</td><td>${r.reported_upward_in_time}</td><td>${r.reported_upward_late}</td></tr>`).join("")
    : `<tr><td colspan="${cols.length}" class="empty">${esc(t("stats.none"))}</td></tr>`;

  const types = Object.entries(s.by_type).sort((a, b) => b[1] - a[1]).map(([k, n]) => {
    const [category, subtype] = k.split("/");
    return { label: `${label("subtype", subtype)}（${label("category", category)}）`, values: { n } };
  });
  $("#type-chart").innerHTML = bars(types, [{ key: "n", name: t("stats.incidents"), colour: "#4fa3ff" }], t("stats.byType"));

  const timing = [["stats.toReport", s.minutes_occurrence_to_report], ["stats.toAck", s.minutes_to_acknowledge], ["stats.toArrive", s.minutes_to_arrive]];
  $("#time-head").innerHTML = `<tr>${["stats.measure", "stats.count", "stats.median", "stats.p90"].map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  $("#time-body").innerHTML = timing.map(([key, v]) => `<tr><th scope="row">${esc(t(key))}</th><td>${v.count}</td>
    <td>${v.median ?? "—"}</td><td>${v.p90 ?? "—"}</td></tr>`).join("");

  const used = Object.entries(s.materials_used).sort((a, b) => b[1] - a[1]).map(([code, n]) => ({ label: materialName(code), values: { n } }));
  $("#material-chart").innerHTML = bars(used, [{ key: "n", name: t("stats.used"), colour: "#2fd3c6" }], t("stats.materials"));
  renderWarnings(s.warnings);
}

/** Early warnings issued in the window and how their targets signed, per street (exercises counted apart). */
function renderWarnings(w) {
  if (!w) return;
  const levels = WARNING_LEVELS.filter((lv) => w.by_level[lv]).map((lv) => `${label("warningLevel", lv)} ${w.by_level[lv]}`).join("、");
  $("#warn-summary").textContent = t("stats.warningsIssued", { n: w.issued, levels: levels || "—", drills: w.exercises });
  const keys = ["receipts", "signed_in_time", "signed_late", "unsigned", "escalated"];
  $("#warn-head").innerHTML = `<tr><th scope="col">${esc(t("stats.street"))}</th>${keys.map((k) => `<th scope="col">${esc(t(`stats.w.${k}`))}</th>`).join("")}</tr>`;
  const rows = Object.entries(w.by_street);
  $("#warn-body").innerHTML = rows.length
    ? [...rows, [null, w.receipts]].map(([code, r]) => `<tr><th scope="row">${esc(code ? unitName(code) : t("stats.total"))}</th>${keys.map((k) => `<td>${r[k]}</td>`).join("")}</tr>`).join("")
    : `<tr><td colspan="${keys.length + 1}" class="empty">${esc(t("stats.none"))}</td></tr>`;
}

// ------------------------------------------------------------------ loading and exports

async function load() {
  showError(null);
  writeAddress();
  try {
    state.summary = await api.get(`/reports/summary?${windowParams()}`);
    render();
  } catch (ex) {
    showError(ex);
  }
}

async function download(path, filename) {
  try {
    await api.downloadFile(path, filename);
  } catch (ex) {
    showError(ex);
  }
}

// The desk files a village's daily report for it (its reporter phoned it in), on the day chosen above.
const FILE_DAILY = known("POST /reports/daily");
let filing = null;

function setupFiling(user) {
  const form = $("#daily-file-form");
  form.hidden = !(user && can(user.role, FILE_DAILY));
  if (form.hidden) return;
  $("#daily-file").dataset.command = FILE_DAILY;
  $("#daily-unit").innerHTML = state.units.filter((u) => REPORTING_KINDS.includes(u.kind)).sort((a, b) => a.code.localeCompare(b.code))
    .map((u) => `<option value="${esc(u.code)}">${esc(unitName(u.parent_code))} · ${esc(u.name)}</option>`).join("");
}

async function fileDaily(e) {
  e.preventDefault();
  const body = { unit_code: $("#daily-unit").value, day: $("#daily-day").value, zero: $("#daily-zero").checked,
                 summary: $("#daily-summary").value.trim() };
  filing = filing ?? new api.Command("/reports/daily"); // one Idempotency-Key until the server answers
  try {
    await filing.send(body);
    $("#daily-file-status").textContent = t("stats.filed");
  } catch (ex) {
    $("#daily-file-status").textContent = `${ex.heading ?? t("err.title")}: ${ex.detail || ex.message}`;
  }
}

function init() {
  $("#daily-file-form").addEventListener("submit", fileDaily);
  $("#w-preset").addEventListener("change", (e) => {
    applyPreset(e.target.value);
    if (e.target.value !== "custom") load();
  });
  for (const id of ["#w-since", "#w-until"]) $(id).addEventListener("change", () => ($("#w-preset").value = "custom"));
  $("#window").addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  $("#export-summary").addEventListener("click", () =>
    download(`/reports/summary?${windowParams()}&format=xlsx`, `统计-${$("#w-since").value}-${$("#w-until").value}.xlsx`));
  $("#daily-day").value = shanghaiDay(Date.now());
  $("#daily-form").addEventListener("submit", (e) => {
    e.preventDefault();
    download(`/reports/daily?day=${$("#daily-day").value}&format=xlsx`, `零报告-${$("#daily-day").value}.xlsx`);
  });
  $("#daily-month").value = shanghaiDay(Date.now()).slice(0, 7);
  $("#daily-month-form").addEventListener("submit", (e) => {
    e.preventDefault();
    download(`/reports/daily/month?month=${$("#daily-month").value}&format=xlsx`, `零报告月报-${$("#daily-month").value}.xlsx`);
  });
  onLangChange(render);
  startShell({
    route: "GET /reports/summary",
    onStart: async () => {
      const [units, materials] = await Promise.all(["/units", "/materials"].map((p) => api.get(p).catch(() => ({ items: [] }))));
      state.units = units.items || [];
      setupFiling(api.getUser());
      setMaterials(materials.items || []);
      readAddress();
      await load();
    },
  });
}

init();
