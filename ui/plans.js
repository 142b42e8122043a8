// 预案与演练: the plans register per unit (overall, special, the six mechanism documents) with each plan's standing in
// words (修订到期, 演练到期: judged by the server from domain.policy), its document, revision and filing (备案); drills
// with their findings, each a rectification item resolved here; exercise incidents (演练) listed among the drills.
import * as api from "./api.js";
import { shanghaiDay } from "./board-model.js";
import { esc } from "./format.js";
import { label, onLangChange, t } from "./i18n.js";
import { startShell } from "./shell.js";
import { can, command, DRILL_KINDS, known, MECHANISMS, PLAN_KINDS, UNIT_KINDS } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const state = { units: [], plans: [], drills: [], user: null, editing: null, position: 0 };

const unitName = (code) => state.units.find((u) => u.code === code)?.name || code || "";
const today = () => shanghaiDay(Date.now()).day;
const allowed = (route) => !!state.user && can(state.user.role, route);

function options(select, entries, anyKey) {
  const current = select.value;
  select.innerHTML = (anyKey ? `<option value="">${esc(t(anyKey))}</option>` : "") +
    entries.map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`).join("");
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function unitOptions() {
  const kinds = UNIT_KINDS;
  return state.units.filter((u) => kinds.includes(u.kind)).sort((a, b) => a.code.localeCompare(b.code))
    .map((u) => [u.code, `${u.kind === "district" || u.kind === "street" || u.kind === "cluster" ? "" : "　"}${u.name}`]);
}

function renderChoices() {
  options($("#f-unit"), unitOptions(), "records.anyUnit");
  options($("#f-kind"), PLAN_KINDS.map((k) => [k, label("planKind", k)]), "records.any");
  options($("#p-unit"), unitOptions());
  options($("#p-kind"), PLAN_KINDS.map((k) => [k, label("planKind", k)]));
  options($("#p-mechanism"), MECHANISMS.map((m) => [m, label("mechanism", m)]));
  options($("#d-kind"), DRILL_KINDS.map((k) => [k, label("drillKind", k)]));
  $("#f-new").hidden = !allowed("POST /plans");
  $("#f-new").dataset.command = known("POST /plans");
}

function showError(ex) {
  const err = $("#plans-error");
  err.hidden = !ex;
  if (ex) err.textContent = `${ex.heading || ""}${ex.detail ? ` — ${ex.detail}` : ""}${ex.fieldErrors?.length ? ` (${ex.fieldErrors.join("; ")})` : ""}`;
}

/** The plan's standing in words: what has lapsed and since when, or that it is in order. */
function standing(p) {
  const s = p.state;
  const out = [];
  if (s.revision_lapsed) out.push(`<span class="state-bad">${esc(label("planLapse", "revision_lapsed"))}</span> ${esc(t("plans.dueWas", { day: s.revision_due_on }))}`);
  if (s.drill_lapsed) out.push(`<span class="state-bad">${esc(label("planLapse", "drill_lapsed"))}</span> ${esc(t("plans.dueWas", { day: s.drill_due_on }))}`);
  if (!out.length) {
    out.push(`<span class="state-ok">${esc(t("plans.inOrder"))}</span>`);
    if (s.drill_due_on) out.push(esc(t("plans.drillBy", { day: s.drill_due_on })));
  }
  return out.join("<br>");
}

function filing(p) {
  if (!p.filing) return `<span class="state-bad">${esc(t("plans.notFiled"))}</span>`;
  const text = `${p.filing.filed_with} ${p.filing.filed_on}${p.filing.reference ? ` · ${p.filing.reference}` : ""}`;
  return p.state.on_file ? esc(text) : `${esc(text)}<br><span class="state-bad">${esc(t("plans.versionNotFiled"))}</span>`;
}

function renderPlans() {
  $("#plan-head").innerHTML = `<tr>${["plans.col.unit", "plans.col.kind", "plans.col.title", "plans.col.version", "plans.col.filing",
    "plans.col.lastDrill", "plans.col.state", "plans.col.actions"].map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  $("#plan-body").innerHTML = state.plans.map((p) => {
    const kind = `${label("planKind", p.kind)}${p.mechanism ? ` · ${label("mechanism", p.mechanism)}` : p.hazard ? ` · ${p.hazard}` : ""}`;
    const act = (name, route, key, when = true) => (allowed(route) && when
      ? `<button class="btn" type="button" data-act="${name}" data-id="${esc(p.id)}" ${command(route)}>${esc(t(key))}</button>` : "");
    const actions = [
      `<button class="btn" type="button" data-act="doc" data-id="${esc(p.id)}">${esc(t("plans.view"))}</button>`,
      act("revise", "POST /plans/{plan_id}/revise", "plans.revise"),
      act("file", "POST /plans/{plan_id}/file", p.state.on_file ? "plans.refile" : "plans.file"),
      act("drill", "POST /plans/{plan_id}/drills", "plans.recordDrill", p.kind !== "mechanism"),
      act("retire", "POST /plans/{plan_id}/retire", "plans.retire"),
    ].join("");
    return `<tr data-plan="${esc(p.id)}"><td>${esc(unitName(p.unit_code))}</td><td>${esc(kind)}</td><td>${esc(p.title)}</td>
      <td>${esc(p.version)}<br>${esc(p.revised_on)}</td><td>${filing(p)}</td><td>${esc(p.last_drill_on || "—")}</td>
      <td class="plan-state">${standing(p)}</td><td><div class="row-actions">${actions}</div></td></tr>`;
  }).join("") || `<tr><td colspan="8">${esc(t("plans.none"))}</td></tr>`;
}

function findingsHtml(d) {
  if (!d.findings.length) return "—";
  const may = allowed("POST /drills/{drill_id}/findings/{n}/resolve");
  return `<ol class="finding-list">${d.findings.map((f) => {
    const head = `${esc(f.finding)}（${esc(t("plans.owner"))}：${esc(f.owner)}，${esc(t("plans.deadline"))} ${esc(f.deadline)}）`;
    if (f.resolved_at) return `<li>${head} <span class="state-ok">${esc(t("plans.resolved"))}</span> ${esc(f.note || "")}</li>`;
    const form = may ? `<form class="resolve" data-drill="${esc(d.id)}" data-n="${f.n}">
        <input name="note" maxlength="500" required aria-label="${esc(t("plans.resolveNote"))}" placeholder="${esc(t("plans.resolveNote"))}">
        <button class="btn" type="submit" ${command("POST /drills/{drill_id}/findings/{n}/resolve")}>${esc(t("plans.resolve"))}</button></form>` : "";
    return `<li>${head} <span class="state-bad">${esc(t("plans.open"))}</span>${form}</li>`;
  }).join("")}</ol>`;
}

function renderDrills() {
  $("#drill-head").innerHTML = `<tr>${["plans.col.heldOn", "plans.col.unit", "plans.col.plan", "plans.col.drillKind", "plans.col.scenario",
    "plans.col.participants", "plans.col.findings"].map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  $("#drill-body").innerHTML = state.drills.map((d) => {
    const kind = d.source === "exercise" ? `<span class="exercise-tag">${esc(label("exercise", "true"))}</span> ${esc(label("drillSource", "exercise"))}`
      : esc(label("drillKind", d.kind));
    return `<tr><td>${esc(d.held_on)}</td><td>${esc(unitName(d.unit_code))}</td><td>${esc(d.plan_title || "—")}</td><td>${kind}</td>
      <td>${esc(d.scenario)}</td><td>${esc(d.participants ?? "—")}</td><td>${findingsHtml(d)}</td></tr>`;
  }).join("") || `<tr><td colspan="7">${esc(t("plans.noDrills"))}</td></tr>`;
}

function render() {
  renderPlans();
  renderDrills();
}

async function load() {
  showError(null);
  const p = new URLSearchParams({ limit: "1000", status: "active", min_position: String(state.position) });
  if ($("#f-unit").value) p.set("unit", $("#f-unit").value);
  if ($("#f-kind").value) p.set("kind", $("#f-kind").value);
  const d = new URLSearchParams({ limit: "200", min_position: String(state.position) });
  if ($("#f-unit").value) d.set("unit", $("#f-unit").value);
  try {
    const [plans, drills] = await Promise.all([api.get(`/plans?${p}`), api.get(`/drills?${d}`)]);
    // The register by unit and kind; drills newest first (the lists come newest change first).
    state.plans = plans.items.sort((a, b) => a.unit_code.localeCompare(b.unit_code) || PLAN_KINDS.indexOf(a.kind) - PLAN_KINDS.indexOf(b.kind)
      || (a.mechanism ?? "").localeCompare(b.mechanism ?? "") || a.title.localeCompare(b.title));
    state.drills = drills.items.sort((a, b) => b.held_on.localeCompare(a.held_on));
    render();
  } catch (ex) {
    showError(ex);
  }
}

// -- the editor: register, revise, file, record a drill -----------------------------------------------
function closeEditor() {
  $("#editor").hidden = true;
  for (const f of ["#plan-form", "#file-form", "#drill-form", "#retire-form"]) $(f).hidden = true;
  state.editing = null;
}

function openEditor(mode, plan) {
  closeEditor();
  state.editing = { mode, plan };
  $("#editor").hidden = false;
  $("#editor-title").textContent = t(`plans.editor.${mode}`, { title: plan?.title || "" });
  const form = { register: "#plan-form", revise: "#plan-form", file: "#file-form", drill: "#drill-form", retire: "#retire-form" }[mode];
  $(form).hidden = false;
  $(form).reset();
  if (form === "#plan-form") {
    for (const el of document.querySelectorAll("#plan-form [data-for]")) el.hidden = el.dataset.for !== mode;
    $("#p-title").required = mode === "register";
    if (plan) $("#p-title").value = plan.title;
    $("#p-revised").value = today();
    if (mode === "register" && $("#f-unit").value) $("#p-unit").value = $("#f-unit").value;
    syncKind();
  } else if (form === "#retire-form") {
    // (a reason, nothing else)
  } else if (form === "#file-form") {
    $("#f-on").value = today();
  } else {
    $("#d-held").value = today();
    $("#d-findings").innerHTML = "";
  }
  $(form).querySelector("input:not([hidden]), select")?.focus();
}

function syncKind() {
  $("#p-mechanism-label").hidden = state.editing?.mode !== "register" || $("#p-kind").value !== "mechanism";
}

let findingSeq = 0;
function addFinding() {
  findingSeq += 1;
  const row = document.createElement("div");
  row.className = "finding-row";
  row.innerHTML = `<label><span>${esc(t("plans.finding"))}</span><input name="finding" maxlength="500" required></label>
    <label><span>${esc(t("plans.owner"))}</span><input name="owner" maxlength="100" required></label>
    <label><span>${esc(t("plans.deadline"))}</span><input name="deadline" type="date" required value="${esc(today())}"></label>
    <button class="btn btn-ghost" type="button" data-remove="${findingSeq}">${esc(t("plans.removeFinding"))}</button>`;
  row.querySelector("[data-remove]").addEventListener("click", () => row.remove());
  $("#d-findings").append(row);
  row.querySelector("input").focus();
}

async function done(answer, key) {
  state.position = Math.max(state.position, answer.position || 0);
  closeEditor();
  $("#plans-done").textContent = t(key);
  await load();
}

async function submitPlan(e) {
  e.preventDefault();
  const { mode, plan } = state.editing;
  const unit = mode === "register" ? $("#p-unit").value : plan.unit_code;
  try {
    const file = $("#p-file").files[0];
    const [kept] = await api.upload(unit, [file]);
    const common = { version: $("#p-version").value.trim(), revised_on: $("#p-revised").value, document: kept.sha256 };
    if (mode === "register") {
      const kind = $("#p-kind").value;
      const body = { ...common, unit_code: unit, kind, title: $("#p-title").value.trim(), hazard: $("#p-hazard").value.trim() };
      if (kind === "mechanism") body.mechanism = $("#p-mechanism").value;
      await done(await new api.Command("/plans").send(body), "plans.saved");
    } else {
      const body = { ...common, title: $("#p-title").value.trim(), note: $("#p-note").value.trim() };
      await done(await new api.Command(`/plans/${plan.id}/revise`).send(body), "plans.saved");
    }
  } catch (ex) {
    showError(ex);
  }
}

async function submitFiling(e) {
  e.preventDefault();
  const body = { filed_with: $("#f-with").value.trim(), filed_on: $("#f-on").value, reference: $("#f-ref").value.trim() };
  try {
    await done(await new api.Command(`/plans/${state.editing.plan.id}/file`).send(body), "plans.saved");
  } catch (ex) {
    showError(ex);
  }
}

async function submitDrill(e) {
  e.preventDefault();
  const findings = [...document.querySelectorAll("#d-findings .finding-row")].map((row) => ({
    finding: row.querySelector('[name="finding"]').value.trim(), owner: row.querySelector('[name="owner"]').value.trim(),
    deadline: row.querySelector('[name="deadline"]').value,
  }));
  const body = { kind: $("#d-kind").value, held_on: $("#d-held").value, participants: Number($("#d-people").value),
    scenario: $("#d-scenario").value.trim(), participant_units: [state.editing.plan.unit_code], findings };
  try {
    await done(await new api.Command(`/plans/${state.editing.plan.id}/drills`).send(body), "plans.drillSaved");
  } catch (ex) {
    showError(ex);
  }
}

async function submitRetire(e) {
  e.preventDefault();
  try {
    await done(await new api.Command(`/plans/${state.editing.plan.id}/retire`).send({ reason: $("#r-reason").value.trim() }), "plans.retired");
  } catch (ex) {
    showError(ex);
  }
}

async function onTableClick(e) {
  const btn = e.target.closest("button[data-act]");
  if (!btn) return;
  const plan = state.plans.find((p) => p.id === btn.dataset.id);
  if (!plan) return;
  if (btn.dataset.act === "doc") {
    api.openFile(plan.document.sha256).catch(showError);
    return;
  }
  openEditor(btn.dataset.act, plan);
}

async function onResolve(e) {
  const form = e.target.closest("form.resolve");
  if (!form) return;
  e.preventDefault();
  try {
    const answer = await new api.Command(`/drills/${form.dataset.drill}/findings/${form.dataset.n}/resolve`).send({ note: form.note.value.trim() });
    await done(answer, "plans.resolvedSaved");
  } catch (ex) {
    showError(ex);
  }
}

function init() {
  $("#filters").addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  $("#f-new").addEventListener("click", () => openEditor("register"));
  $("#p-kind").addEventListener("change", syncKind);
  $("#plan-form").addEventListener("submit", submitPlan);
  $("#file-form").addEventListener("submit", submitFiling);
  $("#drill-form").addEventListener("submit", submitDrill);
  $("#retire-form").addEventListener("submit", submitRetire);
  $("#d-add").addEventListener("click", addFinding);
  for (const b of document.querySelectorAll("#editor .cancel")) b.addEventListener("click", closeEditor);
  $("#plan-body").addEventListener("click", onTableClick);
  $("#drill-body").addEventListener("submit", onResolve);
  onLangChange(() => {
    renderChoices();
    render();
  });
  startShell({
    route: "GET /plans",
    onStart: async (user) => {
      state.user = user;
      state.units = (await api.get("/units").catch(() => ({ items: [] }))).items || [];
      renderChoices();
      await load();
    },
    onSignOut: () => {
      state.plans = [];
      state.drills = [];
      closeEditor();
    },
  });
}

init();
