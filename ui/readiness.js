// 基层应急能力建设: each street's and village's 1+4 / 1+3 / 六有 items, green or red with the reason in words, judged
// by the server from the facts (GET /readiness); a past day as it stood (replay: ?at=); the campaigns (自查 / 督查)
// and their rectification items, signed off (销号) only when the server finds the item green. The address keeps
// the filter (#street=…&standard=…), the board's street column links here.
import * as api from "./api.js";
import { esc, fmtDateTime } from "./format.js";
import { getLang, label, onLangChange, t } from "./i18n.js";
import { startShell } from "./shell.js";
import { can, CAMPAIGN_KINDS, command, known, READINESS_STANDARDS, STREET_KINDS } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const FIELDS = ["street", "standard", "status", "day"];
const state = { units: [], body: null, campaigns: [], campaign: null, user: null };

const reason = (r) => (r ? r[getLang()] || r.zh : "");
const unitName = (code) => state.units.find((u) => u.code === code)?.name || code;
const chip = (status) => `<span class="chip-${status === "green" ? "ok" : status === "red" ? "bad" : "unknown"}">${esc(label("itemStatus", status))}</span>`;

function options(select, entries, anyKey) {
  const current = select.value;
  select.innerHTML = (anyKey ? `<option value="">${esc(t(anyKey))}</option>` : "") +
    entries.map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`).join("");
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function renderChoices() {
  const streets = state.units.filter((u) => STREET_KINDS.includes(u.kind)).sort((a, b) => a.code.localeCompare(b.code));
  options($("#f-street"), streets.map((u) => [u.code, u.name]), "records.anyUnit");
  options($("#f-standard"), READINESS_STANDARDS.map((s) => [s, label("readinessStandard", s)]), "records.any");
  options($("#f-status"), ["red", "green"].map((s) => [s, label("itemStatus", s)]), "records.any");
  options($("#c-kind"), CAMPAIGN_KINDS.map((k) => [k, label("campaignKind", k)]), null);
}

function readAddress() {
  const h = new URLSearchParams(location.hash.replace(/^#/, "") || location.search.replace(/^\?/, ""));
  renderChoices();
  for (const f of FIELDS) $(`#f-${f}`).value = h.get(f) || "";
}

function writeAddress() {
  const h = new URLSearchParams();
  for (const f of FIELDS) if ($(`#f-${f}`).value) h.set(f, $(`#f-${f}`).value);
  const hash = `#${h}`;
  if (location.hash !== hash) history.replaceState(null, "", location.pathname + hash);
}

function query(minPosition) {
  const p = new URLSearchParams();
  if (minPosition) p.set("min_position", String(minPosition)); // read our own write
  if ($("#f-street").value) p.set("unit", $("#f-street").value);
  if ($("#f-standard").value) p.set("standard", $("#f-standard").value);
  if ($("#f-status").value) p.set("status", $("#f-status").value);
  if ($("#f-day").value) p.set("at", `${$("#f-day").value}T23:59:59+08:00`); // the end of that Beijing day
  return `/readiness?${p}`;
}

function showError(ex) {
  const err = $("#ready-error");
  err.hidden = !ex;
  if (ex) err.textContent = `${ex.heading}${ex.detail ? ` — ${ex.detail}` : ""}`;
}

async function load(minPosition = 0) {
  showError(null);
  try {
    state.body = await api.get(query(minPosition));
    render();
  } catch (ex) {
    showError(ex);
  }
}

function render() {
  const body = state.body;
  if (!body) return;
  const note = $("#replay-note");
  note.hidden = !body.replay;
  note.textContent = body.replay ? t("ready.replayNote", { at: fmtDateTime(body.at) }) : "";
  renderStreets(body);
  renderUnits(body);
}

function renderStreets(body) {
  const cols = ["s1_4", "six", "v1_3"];
  $("#street-head").innerHTML = `<tr><th scope="col">${esc(t("streets.street"))}</th>${cols.map((s) => `<th scope="col">${esc(label("readinessStandard", s))}</th>`).join("")}<th scope="col">${esc(t("ready.itemsMet"))}</th></tr>`;
  const cell = (x, unitsKey) => x.units ? `<td class="${x.complete === x.units ? "ok" : "bad"}">${esc(t(unitsKey, { n: x.complete, of: x.units, g: x.green, t: x.items }))}</td>` : "<td>—</td>";
  const rows = body.streets.map((s) => `<tr data-ready-street="${esc(s.street_code)}">
      <th scope="row"><a href="#street=${esc(s.street_code)}">${esc(unitName(s.street_code))}</a></th>
      ${cell(s.s1_4, "ready.itemsOf")}${cell(s.six, "ready.itemsOf")}${cell(s.v1_3, "ready.villagesOf")}
      <td>${s.green}/${s.items}</td></tr>`).join("");
  const d = body.district;
  $("#street-body").innerHTML = rows + `<tr class="total"><th scope="row">${esc(t("streets.total"))}</th>
      ${cell(d.s1_4, "ready.unitsOf")}${cell(d.six, "ready.unitsOf")}${cell(d.v1_3, "ready.villagesOf")}<td>${d.green}/${d.items}</td></tr>`;
}

function strengthHtml(card, item) {
  if (item.id.split(".")[1] !== "team" || state.body.replay || !can(state.user?.role, "POST /teams/{team_id}/strength")) return "";
  const team = card.teams.find((tm) => tm.kind === "comprehensive");
  if (!team) return "";
  const id = `strength-${team.id}-${item.id.replace(".", "-")}`;
  return `<form class="strength" data-team="${esc(team.id)}"><label for="${esc(id)}">${esc(t("ready.strength", { team: team.name }))}</label>
    <input id="${esc(id)}" name="members" type="number" min="1" max="2000" value="${team.members}" required>
    <button class="btn btn-sm" type="submit" ${command("POST /teams/{team_id}/strength")}>${esc(t("ready.saveStrength"))}</button></form>`;
}

function renderUnits(body) {
  $("#unit-count").textContent = t("ready.unitCount", { n: body.units.length });
  const open = new Set([...document.querySelectorAll(".unit-card[open]")].map((d) => d.dataset.unit));
  const street = $("#f-street").value;
  $("#units").innerHTML = body.units.map((card) => {
    const green = card.items.filter((i) => i.status === "green").length;
    const items = card.items.map((i) => `<div class="item" data-item="${esc(i.id)}" data-status="${esc(i.status)}">
        <span>${esc(label("readinessStandard", i.standard))} · ${esc(label("readinessItem", i.id))}</span>${chip(i.status)}
        <span class="reason">${esc(reason(i.reason))}</span>${i.status === "red" ? strengthHtml(card, i) : ""}</div>`).join("");
    const expanded = open.has(card.unit_code) || card.unit_code === street;
    return `<details class="unit-card" data-unit="${esc(card.unit_code)}"${expanded ? " open" : ""}>
      <summary>${esc(card.unit_name)} <span class="score">${esc(label("unitKind", card.unit_kind))} · ${green}/${card.items.length}</span></summary>${items}</details>`;
  }).join("") || `<p class="empty">${esc(t("records.none"))}</p>`;
}

async function changeStrength(form) {
  const members = Number(form.members.value);
  try {
    const r = await new api.Command(`/teams/${form.dataset.team}/strength`).send({ members, reason: t("ready.strengthReason") });
    await load(r.position);
  } catch (ex) {
    showError(ex);
  }
}

// -- campaigns ---------------------------------------------------------------------------------
async function loadCampaigns(minPosition = 0) {
  const after = minPosition ? `&min_position=${minPosition}` : "";
  state.after = after;
  try {
    state.campaigns = (await api.get(`/campaigns?limit=100${after}`)).items;
  } catch {
    state.campaigns = [];
  }
  if (!state.campaign && state.campaigns.length) state.campaign = state.campaigns[state.campaigns.length - 1].id;
  renderCampaigns();
  await loadItems();
}

function renderCampaigns() {
  const form = $("#campaign-form");
  form.hidden = !can(state.user?.role, "POST /campaigns");
  const list = $("#campaign-list");
  list.innerHTML = state.campaigns.map((c) => `<button type="button" class="btn btn-sm" data-campaign="${esc(c.id)}" aria-pressed="${c.id === state.campaign}">
      ${esc(c.title)} · ${esc(label("campaignKind", c.kind))} · ${esc(label("campaignStatus", c.status))} (${c.signed_off}/${c.findings})</button>`).join("")
    + (state.campaign ? ` <button type="button" class="btn btn-sm" id="report-xlsx">${esc(t("ready.reportXlsx"))}</button>` : "");
}

async function loadItems() {
  const path = state.campaign ? `/campaigns/${state.campaign}` : null;
  let items = [];
  if (path) {
    try {
      items = (await api.get(`${path}?${(state.after || "").replace(/^&/, "")}`)).items;
    } catch {
      items = [];
    }
  } else {
    items = (await api.get("/rectifications?limit=200").catch(() => ({ items: [] }))).items;
  }
  const heads = ["unit", "item", "reason", "responsible", "deadline", "status", "evidence"];
  $("#item-head").innerHTML = `<tr>${heads.map((h) => `<th scope="col">${esc(label("rectificationField", h))}</th>`).join("")}<th scope="col"><span class="sr-only">${esc(t("ready.signOff"))}</span></th></tr>`;
  const mayClose = can(state.user?.role, "POST /rectifications/{rectification_id}/sign-off");
  $("#item-body").innerHTML = items.map((d) => `<tr data-rectification="${esc(d.id)}" data-item="${esc(d.item_id)}" data-status="${esc(d.status)}">
      <td>${esc(unitName(d.unit_code))}</td><td>${esc(label("readinessItem", d.item_id))}</td><td>${esc(reason(d.reason))}</td>
      <td>${esc(d.responsible || "—")}</td><td class="${d.overdue ? "bad" : ""}">${esc(fmtDateTime(d.deadline))}${d.escalated_at ? ` · ${esc(t("ready.escalated"))}` : ""}</td>
      <td>${esc(label("rectificationStatus", d.status))}</td><td>${esc(reason(d.evidence))}</td>
      <td>${mayClose && d.status === "open" ? `<button type="button" class="btn btn-sm" data-sign-off="${esc(d.id)}" ${command("POST /rectifications/{rectification_id}/sign-off")}>${esc(t("ready.signOff"))}</button>` : ""}</td></tr>`).join("")
    || `<tr><td colspan="8" class="empty">${esc(t("records.none"))}</td></tr>`;
}

async function signOff(id) {
  try {
    const r = await new api.Command(`/rectifications/${id}/sign-off`).send({ note: "" });
    showError(null);
    await loadCampaigns(r.position);
  } catch (ex) {
    showError(ex); // still red: the server says why, in words
  }
}

async function openCampaign(e) {
  e.preventDefault();
  const unit = state.user.unit_code;
  const kind = $("#c-kind").value;
  try {
    const r = await new api.Command("/campaigns").send({
      kind, unit_code: unit, title: $("#c-title").value.trim(), deadline: `${$("#c-deadline").value}T18:00:00+08:00`,
    });
    state.campaign = r.id;
    showError(null);
    await loadCampaigns(r.position);
  } catch (ex) {
    showError(ex);
  }
}

function init() {
  $("#filters").addEventListener("submit", (e) => {
    e.preventDefault();
    writeAddress();
    load();
  });
  $("#f-reset").addEventListener("click", () => {
    for (const f of FIELDS) $(`#f-${f}`).value = "";
    writeAddress();
    load();
  });
  $("#f-print").addEventListener("click", () => window.print());
  window.addEventListener("beforeprint", () => document.querySelectorAll(".unit-card").forEach((d) => d.setAttribute("open", "")));
  $("#f-assessment").addEventListener("click", () => api.downloadFile("/readiness/assessment?format=xlsx", `${t("ready.assessmentFile")}.xlsx`).catch(showError));
  $("#units").addEventListener("submit", (e) => {
    e.preventDefault();
    changeStrength(e.target);
  });
  $("#campaign-list").addEventListener("click", (e) => {
    const b = e.target.closest("[data-campaign]");
    if (b) {
      state.campaign = b.dataset.campaign;
      renderCampaigns();
      loadItems();
    } else if (e.target.closest("#report-xlsx")) {
      api.downloadFile(`/campaigns/${state.campaign}/report?format=xlsx`, `${t("ready.reportFile")}.xlsx`).catch(showError);
    }
  });
  $("#item-body").addEventListener("click", (e) => {
    const b = e.target.closest("[data-sign-off]");
    if (b) signOff(b.dataset.signOff);
  });
  $("#campaign-form").addEventListener("submit", openCampaign);
  $("#campaign-form button[type=submit]").dataset.command = known("POST /campaigns");
  window.addEventListener("hashchange", () => {
    readAddress();
    load();
  });
  onLangChange(() => {
    renderChoices();
    render();
    renderCampaigns();
    loadItems();
  });
  startShell({
    route: "GET /readiness",
    onStart: async (user) => {
      state.user = user;
      state.units = (await api.get("/units").catch(() => ({ items: [] }))).items || [];
      readAddress();
      await Promise.all([load(), loadCampaigns()]);
    },
    onSignOut: () => {
      state.body = null;
      $("#units").innerHTML = "";
    },
  });
}

init();
