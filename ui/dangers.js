// The hidden-danger register (隐患排查治理台账) at the desk: the register with filters (street, grade,
// status, overdue), one record's whole rectification with its photos, and the steps the account may
// take now. Which steps exist and from which status comes from domain.prevention (DANGER_STEPS), who
// may take them from the role × route table (can), both through vocab.js. Statistics per street and
// the risk points (with their LEC grading and review dates) sit beside.
import * as api from "./api.js";
import { esc, fmtDateTime, fromLocalInput, parseIso, toLocalInput } from "./format.js";
import { label, onLangChange, t } from "./i18n.js";
import { startShell } from "./shell.js";
import {
  ASSESS_METHODS, can, CHECK_RESULTS, CONTROL_TIERS, DANGER_FLOW, DANGER_GRADES, DANGER_RUNNING, DANGER_STEPS, FIVE_IN_PLACE,
  INSPECTION_KINDS, LEC_VALUES, RISK_COLOUR, RISK_LEVELS,
  command, known,
} from "./vocab.js";
import { lecLevel } from "./board-model.js";

const $ = (sel) => document.querySelector(sel);
const DAY_MS = 24 * 60 * 60 * 1000;
// The desk's steps, in the order their buttons show, and the route each is sent to.
const DESK_STEPS = [["assign", "assign"], ["progress", "progress"], ["deadline", "deadline"], ["verify", "verify"], ["reject", "reject"],
  ["close", "close"]];
const STAT_COLUMNS = ["found", "rectified", "on_time_rate", "overdue", "major_found", "major_closed", "avg_days_to_close"];
const state = { user: null, units: new Map(), items: [], selected: null, doc: null, blobs: new Map(), position: 0, risks: new Map() };

function init() {
  $("#filters").addEventListener("change", () => loadList());
  $("#period").addEventListener("change", () => loadSide());
  $("#register").addEventListener("click", (e) => {
    const row = e.target.closest("[data-id]");
    if (row) select(row.dataset.id);
  });
  $("#detail").addEventListener("click", (e) => {
    const b = e.target.closest("[data-step]");
    if (b) openStep(b.dataset.step);
  });
  $("#risks").addEventListener("click", (e) => {
    const b = e.target.closest("[data-assess]");
    if (b) openAssess(b.dataset.assess);
    const ctl = e.target.closest("[data-controls]");
    if (ctl) openControls(ctl.dataset.controls);
  });
  $("#risk-new").addEventListener("click", openRegister);
  $("#insp-new").addEventListener("click", openInspection);
  $("#risk-new").dataset.command = known("POST /risk-points");
  $("#insp-new").dataset.command = known("POST /inspections");
  $("#cmd-body").addEventListener("change", showLecLevel);
  $("#cmd-close").addEventListener("click", () => $("#cmd-dialog").close());
  $("#cmd-cancel").addEventListener("click", () => $("#cmd-dialog").close());
  $("#cmd-form").addEventListener("submit", submitStep);
  onLangChange(() => { if (state.user) { renderFilters(); renderList(); renderDetail(); loadSide(); } });
  startShell({ route: "GET /hidden-dangers", onStart: start, onSignOut: () => { state.user = null; } });
  setInterval(() => { if (state.user && !$("#cmd-dialog").open) refresh(); }, 30_000);
}

async function start(user) {
  state.user = user;
  const units = await api.get("/units?limit=1000");
  state.units = new Map(units.items.map((u) => [u.code, u]));
  renderFilters();
  const wanted = new URLSearchParams(location.hash.slice(1)).get("id");
  await refresh();
  if (wanted) select(wanted);
}

async function refresh(minPosition = 0) {
  await loadList(minPosition);
  if (state.selected) await select(state.selected, minPosition);
  await loadSide(minPosition);
}

function unitName(code) {
  return state.units.get(code)?.name ?? code ?? "";
}

function unitPath(code) {
  const street = code && code.slice(9) !== "000" ? `${code.slice(0, 9)}000` : null;
  return [street && state.units.has(street) ? unitName(street) : null, unitName(code)].filter(Boolean).join(" · ");
}

function option(value, text, current) {
  return `<option value="${esc(value)}"${value === current ? " selected" : ""}>${esc(text)}</option>`;
}

function renderFilters() {
  const keep = (id) => $(id).value;
  const street = keep("#f-street"), grade = keep("#f-grade"), status = keep("#f-status");
  const streets = [...state.units.values()].filter((u) => u.kind === "street" || u.kind === "cluster").sort((a, b) => a.code.localeCompare(b.code));
  $("#f-street").innerHTML = option("", t("dangers.all"), street) + streets.map((u) => option(u.code, u.name, street)).join("");
  $("#f-grade").innerHTML = option("", t("dangers.all"), grade) + DANGER_GRADES.map((g) => option(g, label("dangerGrade", g), grade)).join("");
  $("#f-status").innerHTML = option("", t("dangers.all"), status) + DANGER_FLOW.map((s) => option(s, label("dangerStatus", s), status)).join("");
}

async function loadList(minPosition = 0) {
  const q = new URLSearchParams({ limit: "500" });
  if ($("#f-street").value) q.set("street", $("#f-street").value);
  if ($("#f-grade").value) q.set("grade", $("#f-grade").value);
  if ($("#f-status").value) q.set("status", $("#f-status").value);
  if ($("#f-overdue").checked) q.set("overdue", "true");
  if (minPosition) q.set("min_position", String(minPosition));
  const page = await api.get(`/hidden-dangers?${q}`);
  state.items = page.items;
  state.position = page.position;
  renderList();
}

function statusChip(status) {
  return `<span class="st st-${esc(status)}">${esc(label("dangerStatus", status))}</span>`;
}

function renderList() {
  $("#register-count").textContent = t("dangers.count", { n: state.items.length });
  $("#register").innerHTML = state.items.map((d) => `<button type="button" class="hd-row${d.overdue ? " is-overdue" : ""}${d.id === state.selected ? " is-selected" : ""}"
      data-id="${esc(d.id)}" data-testid="row-${esc(d.id)}" data-status="${esc(d.status)}" aria-pressed="${d.id === state.selected}">
      <div class="hd-title">${statusChip(d.status)}<span class="${d.grade === "major" ? "grade-major" : ""}">${esc(label("dangerGrade", d.grade))}</span> ${esc(d.title)}</div>
      <div class="hd-meta">${esc(unitPath(d.unit_code))} · ${esc(fmtDateTime(d.found_at))}${d.deadline && DANGER_RUNNING.includes(d.status)
        ? ` · <span class="deadline">${esc(t("danger.deadline"))} ${esc(fmtDateTime(d.deadline))}${d.overdue ? ` · ${esc(t("danger.overdue"))}` : ""}</span>` : ""}</div>
    </button>`).join("") || `<div class="empty">${esc(t("dangers.none"))}</div>`;
}

async function select(id, minPosition = 0) {
  state.selected = id;
  history.replaceState(null, "", `#id=${encodeURIComponent(id)}`);
  try {
    state.doc = await api.get(`/hidden-dangers/${encodeURIComponent(id)}${minPosition ? `?min_position=${minPosition}` : ""}`);
  } catch (ex) {
    state.doc = null;
    if (ex.status !== 404) toast(`${ex.heading}: ${ex.detail}`, true);
  }
  renderList();
  renderDetail();
}

/** The steps this account may take on this record now: the status allows it (DANGER_STEPS) and the table lets the role (can). */
function stepsFor(doc) {
  const role = state.user?.role;
  return DESK_STEPS.filter(([step, route]) => DANGER_STEPS[step].from.includes(doc.status)
    && can(role, `POST /hidden-dangers/{danger_id}/${route}`)
    // the account that reported the rectification does not judge it (the server refuses it too)
    && !((step === "verify" || step === "reject") && doc.reported_by?.user === state.user?.username));
}

function photosHtml(files) {
  if (!files?.length) return "";
  return `<div class="photos">${files.map((f) => f.media_type.startsWith("image/")
    ? `<img alt="${esc(f.name || t("dangers.evidence"))}" data-sha="${esc(f.sha256)}" data-testid="photo-${esc(f.sha256)}">`
    : `<button type="button" class="btn btn-sm" data-pdf="${esc(f.sha256)}">${esc(f.name || t("dangers.openFile"))}</button>`).join("")}</div>`;
}

function renderDetail() {
  const d = state.doc;
  if (!d) {
    $("#detail").innerHTML = `<div class="empty">${esc(t("dangers.pick"))}</div>`;
    return;
  }
  const who = (a) => a?.name || a?.user || "";
  const five = Object.keys(d.five ?? {}).length
    ? `<dt>${esc(t("dangers.five"))}</dt><dd>${FIVE_IN_PLACE.map((k) => `${esc(label("fiveInPlace", k))}：${esc(d.five[k])}`).join("<br>")}</dd>` : "";
  const steps = stepsFor(d);
  $("#detail").innerHTML = `<h3 data-testid="detail-title">${statusChip(d.status)}<span class="${d.grade === "major" ? "grade-major" : ""}">${esc(label("dangerGrade", d.grade))}</span> ${esc(d.title)}</h3>
    <dl>
      <dt>${esc(t("dangers.unit"))}</dt><dd>${esc(unitPath(d.unit_code))}</dd>
      ${d.site ? `<dt>${esc(t("dangers.site"))}</dt><dd>${esc(d.site)}</dd>` : ""}
      ${d.risk_point_name ? `<dt>${esc(t("dangers.riskPoint"))}</dt><dd>${esc(d.risk_point_name)}</dd>` : ""}
      ${d.rectifier ? `<dt>${esc(t("dangers.rectifier"))}</dt><dd>${esc(d.rectifier)} · ${esc(t("dangers.responsible"))} ${esc(d.responsible)}</dd>` : ""}
      ${d.measures ? `<dt>${esc(t("dangers.measures"))}</dt><dd>${esc(d.measures)}</dd>` : ""}
      ${d.deadline ? `<dt>${esc(t("danger.deadline"))}</dt><dd>${esc(fmtDateTime(d.deadline))}${d.overdue ? ` <strong class="grade-major">${esc(t("danger.overdue"))}</strong>` : ""}</dd>` : ""}
      ${five}
      ${d.supervision ? `<dt>${esc(t("dangers.supervision"))}</dt><dd>${esc(d.supervision)}</dd>` : ""}
    </dl>
    ${steps.length ? `<div class="actions">${steps.map(([step]) => `<button type="button" class="btn ${step === "reject" ? "btn-danger" : "btn-primary"}" data-step="${step}" data-testid="step-${step}" ${command(`POST /hidden-dangers/{danger_id}/${DESK_STEPS.find(([s]) => s === step)[1]}`)}>${esc(t(`step.${step}`))}</button>`).join("")}</div>` : ""}
    <ol class="timeline" data-testid="timeline">${d.timeline.map((s) => `<li data-step="${esc(s.step)}-entry">
      <div class="tl-head"><strong>${esc(label("dangerStep", s.step))}</strong><span class="tl-time">${esc(fmtDateTime(s.at))}</span> · ${esc(who(s.by))}</div>
      ${s.note || s.reason || s.deadline ? `<div class="tl-text">${esc([s.note, s.reason, s.deadline ? `${t("danger.deadline")} ${fmtDateTime(s.deadline)}` : ""].filter(Boolean).join(" · "))}</div>` : ""}
      ${photosHtml(s.evidence)}</li>`).join("")}</ol>`;
  for (const img of $("#detail").querySelectorAll("img[data-sha]")) showPhoto(img);
  for (const b of $("#detail").querySelectorAll("[data-pdf]")) b.addEventListener("click", () => openFile(b.dataset.pdf));
}

/** Files are served only with the account's token: fetched, then shown from a blob. */
async function blobUrl(sha) {
  if (!state.blobs.has(sha)) {
    state.blobs.set(sha, fetch(`${api.API}/evidence/${sha}`, { headers: { Authorization: `Bearer ${api.getToken()}` } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status))))).then((b) => URL.createObjectURL(b))
      .catch((e) => { state.blobs.delete(sha); throw e; }));
  }
  return state.blobs.get(sha);
}

async function showPhoto(img) {
  try {
    img.src = await blobUrl(img.dataset.sha);
  } catch {
    img.alt = `${img.alt} ✕`;
  }
}

async function openFile(sha) {
  window.open(await blobUrl(sha), "_blank", "noopener");
}

// ------------------------------------------------------------------ the steps' dialogs
const labelled = (words, input) => `<label class="wide"><span class="req">${esc(words)}</span>${input}</label>`;
const field = (id, key, input) => labelled(t(key), input);
const optional = (id, key, input) => `<label class="wide"><span>${esc(t(key))}</span>${input}</label>`;
const text = (id, value = "") => `<input id="${id}" value="${esc(value)}" maxlength="200" required>`;
const area = (id) => `<textarea id="${id}" rows="3" maxlength="2000" required></textarea>`;
const when = (id, ms) => `<input id="${id}" type="datetime-local" value="${esc(toLocalInput(ms))}" required>`;

function openStep(step) {
  const d = state.doc;
  const in7 = Date.now() + 7 * DAY_MS;
  let body = "";
  if (step === "assign") {
    body = field("s-rectifier", "dangers.rectifier", text("s-rectifier")) + field("s-responsible", "dangers.responsible", text("s-responsible"))
      + field("s-deadline", "danger.deadline", when("s-deadline", in7)) + field("s-measures", "dangers.measures", area("s-measures"));
    if (d.grade === "major") {
      body += FIVE_IN_PLACE.map((k) => labelled(label("fiveInPlace", k), text(`s-five-${k}`))).join("")
        + field("s-supervision", "dangers.supervision", text("s-supervision"));
    }
  } else if (step === "progress") {
    body = field("s-note", "dangers.note", area("s-note"));
  } else if (step === "deadline") {
    body = field("s-deadline", "dangers.newDeadline", when("s-deadline", d.deadline ? parseIso(d.deadline) + 7 * DAY_MS : in7))
      + field("s-reason", "dangers.reason", area("s-reason"));
  } else if (step === "reject") {
    body = field("s-reason", "dangers.reason", area("s-reason")) + field("s-deadline", "dangers.newDeadline", when("s-deadline", in7));
  } else {
    body = optional("s-note", "dangers.note", `<textarea id="s-note" rows="3" maxlength="2000"></textarea>`);
  }
  $("#cmd-title").textContent = `${t(`step.${step}`)} · ${d.title}`;
  $("#cmd-body").innerHTML = body;
  $("#cmd-form").dataset.step = step;
  $("#cmd-error").hidden = true;
  $("#cmd-dialog").showModal();
  $("#cmd-body").querySelector("input, textarea")?.focus();
}

const commands = new Map(); // one api.Command per (record, step): its key survives a retry of the same body

function bodyFor(step) {
  const v = (id) => $(`#${id}`)?.value.trim() ?? "";
  const assessment = () => (v("a-method") === "lec"
    ? { method: "lec", l: Number(v("a-l")), e: Number(v("a-e")), c: Number(v("a-c")), basis: v("a-basis") }
    : { method: "direct", level: v("a-level"), basis: v("a-basis") });
  switch (step) {
    case "assess":
      return assessment();
    case "register":
      return { unit_code: v("r-unit"), name: v("r-name"), subject: v("r-subject"), industry: v("r-industry"), address: v("r-address"),
        hazard: v("r-hazard"), ...assessment() };
    case "inspect":
      return { unit_code: v("i-unit"), kind: v("i-kind"), site: v("i-site"), inspectors: v("i-inspectors"), inspected_at: new Date().toISOString(),
        checklist: [...Array(CHECK_ROWS)].map((_, n) => ({ item: v(`i-item-${n}`), result: v(`i-result-${n}`) })).filter((c) => c.item),
        findings: v("i-finding") ? [{ grade: v("i-grade"), title: v("i-finding") }] : [] };
    case "controls":
      return { controls: CONTROL_TIERS.map((tier) => ({ tier, measures: v(`k-${tier}-measures`), person: v(`k-${tier}-person`) }))
        .filter((c) => c.measures || c.person) };
    case "assign": {
      const body = { rectifier: v("s-rectifier"), responsible: v("s-responsible"), deadline: fromLocalInput(v("s-deadline")), measures: v("s-measures") };
      if (state.doc.grade === "major") {
        body.five = Object.fromEntries(FIVE_IN_PLACE.map((k) => [k, v(`s-five-${k}`)]));
        body.supervision = v("s-supervision");
      }
      return body;
    }
    case "progress":
      return { note: v("s-note") };
    case "deadline":
      return { deadline: fromLocalInput(v("s-deadline")), reason: v("s-reason") };
    case "reject":
      return { reason: v("s-reason"), deadline: fromLocalInput(v("s-deadline")) };
    default:
      return { note: v("s-note") };
  }
}

async function submitStep(e) {
  e.preventDefault();
  const step = e.currentTarget.dataset.step;
  const risk = e.currentTarget.dataset.risk;
  const path = { assess: `/risk-points/${risk}/assessments`, controls: `/risk-points/${risk}/controls`, register: "/risk-points",
    inspect: "/inspections" }[step]
    ?? `/hidden-dangers/${state.doc.id}/${DESK_STEPS.find(([s]) => s === step)[1]}`;
  if (!commands.has(path)) commands.set(path, new api.Command(path));
  const btn = $("#cmd-submit");
  btn.disabled = true;
  try {
    const answer = await commands.get(path).send(bodyFor(step));
    $("#cmd-dialog").close();
    toast(`${t({ assess: "risk.reassess", register: "risk.register", controls: "risk.controls", inspect: "insp.record" }[step] ?? `step.${step}`)} · ${t("dangers.done")}`);
    await refresh(answer.position);
  } catch (ex) {
    $("#cmd-error").hidden = false;
    $("#cmd-error").textContent = `${ex.heading}${ex.detail ? ` — ${ex.detail}` : ""}${ex.fieldErrors.length ? ` (${ex.fieldErrors.join("; ")})` : ""}`;
  } finally {
    btn.disabled = false;
  }
}

// ------------------------------------------------------------------ statistics and risk points
async function loadSide(minPosition = 0) {
  const period = new URLSearchParams();
  if ($("#p-start").value) period.set("start", $("#p-start").value);
  if ($("#p-end").value) period.set("end", $("#p-end").value);
  if (minPosition) period.set("min_position", String(minPosition));
  const q = period.toString() ? `?${period}` : "";
  loadInspections(minPosition);
  const [stats, risks] = await Promise.all([api.get(`/hidden-dangers/stats${q}`).catch((ex) => { toast(`${ex.heading}: ${ex.detail}`, true); return { streets: {} }; }), api.get(`/risk-points?limit=500${minPosition ? `&min_position=${minPosition}` : ""}`)]);
  const cell = (k, v) => (v === null || v === undefined ? "—" : k === "on_time_rate" ? `${Math.round(v * 100)}%` : String(v));
  const rows = Object.entries(stats.streets).map(([code, row]) => `<tr><td>${esc(unitName(code))}</td>${STAT_COLUMNS.map((k) => `<td>${esc(cell(k, row[k]))}</td>`).join("")}</tr>`).join("");
  $("#stats").innerHTML = rows ? `<table class="tbl"><thead><tr><th>${esc(t("dangers.street"))}</th>${STAT_COLUMNS.map((k) => `<th>${esc(label("dangerStat", k))}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table>`
    : `<div class="empty">${esc(t("dangers.none"))}</div>`;
  const now = Date.now();
  const canAssess = can(state.user?.role, "POST /risk-points/{risk_point_id}/assessments");
  const canControl = can(state.user?.role, "POST /risk-points/{risk_point_id}/controls");
  $("#risk-new").hidden = !can(state.user?.role, "POST /risk-points");
  state.risks = new Map(risks.items.map((r) => [r.id, r]));
  $("#risk-count").textContent = risks.total;
  $("#risks").innerHTML = risks.items.map((r) => {
    const late = r.review_due && parseIso(r.review_due) < now;
    const a = r.assessment;
    return `<div class="risk${late ? " is-late" : ""}" data-testid="risk-${esc(r.id)}"><div><span class="rl rl-${esc(RISK_COLOUR[r.level] ?? "blue")}">${esc(label("riskColour", RISK_COLOUR[r.level] ?? ""))}</span>${esc(r.name)} · ${esc(r.subject)}</div>
      <div class="meta">${esc(label("riskLevel", r.level))}${a?.d != null ? ` · ${esc(t("dangers.lec", { d: a.d }))}` : a?.basis ? ` · ${esc(a.basis)}` : ""} · ${esc(unitPath(r.unit_code))}</div>
      <div class="meta review">${esc(t("dangers.reviewDue"))} ${esc(fmtDateTime(r.review_due))}</div>
      ${(r.controls ?? []).map((c) => `<div class="meta">${esc(label("controlTier", c.tier))}：${esc(c.measures)} · ${esc(c.person)}</div>`).join("")}
      ${canAssess ? `<button type="button" class="btn btn-sm" data-assess="${esc(r.id)}" data-testid="assess-${esc(r.id)}" ${command("POST /risk-points/{risk_point_id}/assessments")}>${esc(t("risk.reassess"))}</button>` : ""}
      ${canControl ? `<button type="button" class="btn btn-sm" data-controls="${esc(r.id)}" data-testid="controls-${esc(r.id)}" ${command("POST /risk-points/{risk_point_id}/controls")}>${esc(t("risk.controls"))}</button>` : ""}</div>`;
  }).join("") || `<div class="empty">${esc(t("dangers.none"))}</div>`;
}

// ------------------------------------------------------------------ reassessing a risk point (LEC or direct)
/** The assessment's fields (LEC from the method's tables, or a level with its basis), as given `a` and `level`. */
function assessmentFields(a, level) {
  const pick = (name, values, current) => `<label><span class="req">${name.toUpperCase()}</span><select id="a-${name}">${values.map((v) => option(String(v), String(v), String(current ?? ""))).join("")}</select></label>`;
  return `<label class="wide"><span class="req">${esc(t("risk.method"))}</span><select id="a-method">${ASSESS_METHODS.map((m) => option(m, label("assessMethod", m), a.method ?? "lec")).join("")}</select></label>
    ${pick("l", LEC_VALUES.l, a.l)}${pick("e", LEC_VALUES.e, a.e)}${pick("c", LEC_VALUES.c, a.c)}
    <div class="wide lec-result" id="a-result" aria-live="polite"></div>
    <label class="wide"><span>${esc(t("risk.level"))}</span><select id="a-level">${RISK_LEVELS.map((l) => option(l, label("riskLevel", l), level)).join("")}</select></label>
    <label class="wide"><span>${esc(t("risk.basis"))}</span><textarea id="a-basis" rows="2" maxlength="2000">${esc(a.basis ?? "")}</textarea></label>`;
}

function openDialog(step, title, body, risk = "") {
  $("#cmd-title").textContent = title;
  $("#cmd-body").innerHTML = body;
  $("#cmd-form").dataset.step = step;
  $("#cmd-form").dataset.risk = risk;
  $("#cmd-error").hidden = true;
  showLecLevel();
  $("#cmd-dialog").showModal();
  $("#cmd-body").querySelector("input, select, textarea")?.focus();
}

function openAssess(id) {
  const r = state.risks.get(id);
  openDialog("assess", `${t("risk.reassess")} · ${r.name}`, assessmentFields(r.assessment ?? {}, r.level), id);
}

/** The units this account registers risk points in: its own and those below it (the one scope rule, by code levels). */
function unitsInScope() {
  const prefix = state.user.scope_prefix ?? ""; // the server's scope rule (GET /auth/me)
  return [...state.units.values()].filter((u) => u.code.startsWith(prefix)).sort((a, b) => a.code.localeCompare(b.code));
}

function openRegister() {
  const line = (id, key, required = true) => `<label class="wide"><span class="${required ? "req" : ""}">${esc(t(key))}</span><input id="${id}" maxlength="200"${required ? " required" : ""}></label>`;
  openDialog("register", t("risk.register"), `<label class="wide"><span class="req">${esc(t("dangers.unit"))}</span><select id="r-unit">${unitsInScope().map((u) => option(u.code, unitPath(u.code), "")).join("")}</select></label>
    ${line("r-name", "risk.name")}${line("r-subject", "risk.subject")}${line("r-industry", "risk.industry", false)}${line("r-address", "risk.address", false)}
    <label class="wide"><span class="req">${esc(t("risk.hazard"))}</span><textarea id="r-hazard" rows="2" maxlength="2000" required></textarea></label>
    ${assessmentFields({}, RISK_LEVELS[RISK_LEVELS.length - 1])}`);
}

function openControls(id) {
  const r = state.risks.get(id);
  const now = Object.fromEntries((r.controls ?? []).map((c) => [c.tier, c]));
  openDialog("controls", `${t("risk.controls")} · ${r.name}`, CONTROL_TIERS.map((tier) => `<fieldset class="wide tier"><legend>${esc(label("controlTier", tier))}</legend>
      <label><span>${esc(t("dangers.measures"))}</span><textarea id="k-${tier}-measures" rows="2" maxlength="2000">${esc(now[tier]?.measures ?? "")}</textarea></label>
      <label><span>${esc(t("dangers.responsible"))}</span><input id="k-${tier}-person" maxlength="200" value="${esc(now[tier]?.person ?? "")}"></label></fieldset>`).join(""), id);
}

function showLecLevel() {
  if (!["assess", "register"].includes($("#cmd-form").dataset.step)) return;
  const lec = $("#a-method").value === "lec";
  for (const id of ["#a-l", "#a-e", "#a-c"]) $(id).disabled = !lec;
  $("#a-level").disabled = lec;
  const d = Math.round(Number($("#a-l").value) * Number($("#a-e").value) * Number($("#a-c").value) * 100) / 100;
  const level = lecLevel(d);
  if (lec) $("#a-level").value = level;
  $("#a-result").textContent = lec ? `${t("dangers.lec", { d })} → ${label("riskLevel", level)}（${label("riskColour", RISK_COLOUR[level])}）` : "";
}

// ------------------------------------------------------------------ inspections (排查): a checklist, and findings that raise hidden dangers
const CHECK_ROWS = 4;

async function loadInspections(minPosition = 0) {
  const page = await api.get(`/inspections?limit=50${minPosition ? `&min_position=${minPosition}` : ""}`).catch(() => ({ items: [], total: 0 }));
  $("#insp-new").hidden = !can(state.user?.role, "POST /inspections");
  $("#insp-count").textContent = page.total;
  $("#inspections").innerHTML = page.items.map((i) => `<div class="risk" data-testid="insp-${esc(i.id)}">
      <div>${esc(label("inspectionKind", i.kind))} · ${esc(i.site || unitPath(i.unit_code))} · ${esc(fmtDateTime(i.inspected_at))}</div>
      <div class="meta">${i.checklist.map((c) => `${esc(c.item)}：${esc(label("checkResult", c.result))}`).join(" · ")}</div>
      <div class="meta">${esc(t("insp.found", { n: i.dangers.length }))}${i.inspectors ? ` · ${esc(i.inspectors)}` : ""}</div></div>`).join("")
    || `<div class="empty">${esc(t("dangers.none"))}</div>`;
}

function openInspection() {
  const rows = [...Array(CHECK_ROWS)].map((_, n) => `<label><span class="${n ? "" : "req"}">${esc(t("insp.item"))} ${n + 1}</span><input id="i-item-${n}" maxlength="200"></label>
    <label><span>${esc(t("insp.result"))}</span><select id="i-result-${n}">${CHECK_RESULTS.map((r) => option(r, label("checkResult", r), "ok")).join("")}</select></label>`).join("");
  openDialog("inspect", t("insp.record"), `<label class="wide"><span class="req">${esc(t("dangers.unit"))}</span><select id="i-unit">${unitsInScope().map((u) => option(u.code, unitPath(u.code), "")).join("")}</select></label>
    <label><span class="req">${esc(t("insp.kind"))}</span><select id="i-kind">${INSPECTION_KINDS.map((k) => option(k, label("inspectionKind", k), "planned")).join("")}</select></label>
    <label><span class="req">${esc(t("dangers.site"))}</span><input id="i-site" maxlength="200"></label>
    <label class="wide"><span>${esc(t("insp.inspectors"))}</span><input id="i-inspectors" maxlength="200"></label>
    ${rows}
    <label class="wide"><span>${esc(t("insp.finding"))}</span><input id="i-finding" maxlength="200"></label>
    <label><span>${esc(t("dangers.grade"))}</span><select id="i-grade">${DANGER_GRADES.map((g) => option(g, label("dangerGrade", g), "general")).join("")}</select></label>`);
}

function toast(message, isError = false) {
  const el = document.createElement("div");
  el.className = `toast${isError ? " err" : ""}`;
  el.textContent = message;
  $("#toasts").append(el);
  setTimeout(() => el.remove(), 5000);
}

init();
