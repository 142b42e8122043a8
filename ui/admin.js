// System administration (系统管理) from the pages, not Swagger: accounts, team phone logins (the
// password shown once), warehouse receipts, counts and minimums, the relay to the city with
// resume, and the organisation tree (a new street or village, 登记单位). Which sections and buttons a role sees comes from the server's own role × route table
// (ui/vocab.js `can`); every command carries an Idempotency-Key, so a double click acts once.
import * as api from "./api.js";
import { esc, fmtDateTime } from "./format.js";
import { label, materialList, materialName, materialUnit, onLangChange, setMaterials, t } from "./i18n.js";
import { startShell } from "./shell.js";
import { GLOSSARY, ROLES, UNIT_KINDS, UNIT_LEVEL_OF_KIND, UNIT_PREFIX_LENGTH, can, command, known } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const state = { user: null, units: [], teams: [], warehouses: [], users: [], teamAccounts: [], relay: null };

// ------------------------------------------------------------------ messages

function say(message) {
  $("#admin-error").hidden = true;
  $("#admin-status").hidden = !message;
  $("#admin-status").textContent = message;
}

function fail(ex) {
  $("#admin-status").hidden = true;
  const err = $("#admin-error");
  err.hidden = false;
  const fields = ex.fieldErrors?.length ? `（${ex.fieldErrors.join("；")}）` : "";
  err.innerHTML = `<strong>${esc(ex.heading || t("err.title"))}</strong> ${esc(ex.detail || ex.message || "")}${esc(fields)}`;
}

// One Command per route: a second click while the first is unanswered resends the same body with
// the same Idempotency-Key, so the server acts once; an answered command frees the key.
const commands = new Map();

/** Send one command, the submitting button disabled until the server answers. */
async function run(path, body, done, button = document.activeElement) {
  if (!commands.has(path)) commands.set(path, new api.Command(path));
  const pressed = button instanceof HTMLButtonElement ? button : null;
  if (pressed) pressed.disabled = true;
  try {
    const answer = await commands.get(path).send(body);
    say(done);
    return answer;
  } catch (ex) {
    fail(ex);
    return null;
  } finally {
    if (pressed) pressed.disabled = false;
  }
}

// ------------------------------------------------------------------ sections by permission

function sections() {
  const role = state.user?.role;
  const visible = [...document.querySelectorAll(".admin-tabs a")].filter((a) => can(role, a.dataset.route));
  for (const a of document.querySelectorAll(".admin-tabs a")) a.hidden = !visible.includes(a);
  const wanted = location.hash.replace(/^#/, "");
  const current = visible.find((a) => a.dataset.section === wanted) || visible[0];
  for (const a of visible) {
    const on = a === current;
    a.classList.toggle("is-current", on);
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    $(`#sec-${a.dataset.section}`).hidden = !on;
  }
  for (const a of document.querySelectorAll(".admin-tabs a")) if (!visible.includes(a)) $(`#sec-${a.dataset.section}`).hidden = true;
  for (const el of document.querySelectorAll("form[data-route], button[data-route]")) {
    el.dataset.command = known(el.dataset.route);
    if (el.id === "relay-resume") continue; // shown by the relay's state as well
    el.hidden = !can(role, el.dataset.route);
  }
  $("#user-form").dataset.command = known("POST /users");
  $("#issue-team").dataset.command = known("POST /teams/{team_id}/accounts");
  return current?.dataset.section;
}

async function show() {
  const section = sections();
  if (section === "users") await loadUsers();
  if (section === "teams") await loadTeamAccounts();
  if (section === "stock") renderStock();
  if (section === "relay") await loadRelay();
  if (section === "units") renderUnits();
}

function options(select, entries) {
  const current = select.value;
  select.innerHTML = entries.map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`).join("");
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function unitName(code) {
  return state.units.find((u) => u.code === code)?.name || code || "";
}

// ------------------------------------------------------------------ accounts

async function loadUsers() {
  try {
    state.users = (await api.get("/users")).items || [];
  } catch (ex) {
    fail(ex);
  }
  renderUsers();
}

function renderUsers() {
  $("#users-head").innerHTML = `<tr>${["admin.username", "admin.displayName", "admin.role", "admin.unit", "admin.state", "admin.actions"]
    .map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  const mayRevoke = can(state.user?.role, "POST /users/{username}/revoke");
  $("#users-body").innerHTML = state.users.map((u) => `<tr>
      <td>${esc(u.username)}</td><td>${esc(u.display_name)}</td><td>${esc(label("role", u.role))}</td>
      <td>${esc(unitName(u.unit_code))}</td><td>${esc(t(u.active ? "admin.active" : "admin.revoked"))}</td>
      <td>${mayRevoke && u.active && u.username !== state.user?.username
        ? `<button class="btn btn-sm btn-danger" type="button" data-revoke="${esc(u.username)}" ${command("POST /users/{username}/revoke")}>${esc(t("admin.revoke"))}</button>` : ""}</td>
    </tr>`).join("");
  options($("#user-role-select"), ROLES.map((r) => [r, label("role", r)]));
  options($("#user-unit"), state.units.map((u) => [u.code, `${label("unitKind", u.kind)} · ${u.name}`]));
  renderUserTeams();
}

function renderUserTeams() {
  const field = $("#user-role-select").value === "field";
  $("#user-team-label").hidden = !field;
  const unit = $("#user-unit").value;
  options($("#user-team"), state.teams.filter((tm) => tm.unit_code === unit).map((tm) => [tm.id, tm.name]));
}

async function onAddUser(e) {
  e.preventDefault();
  const f = new FormData(e.target);
  const body = Object.fromEntries([...f.entries()].filter(([, v]) => v !== ""));
  if (body.role !== "field") delete body.team_id;
  const ok = await run("/users", body, t("admin.created", { name: body.username }));
  if (ok) {
    e.target.reset();
    await loadUsers();
  }
}

async function onRevoke(username) {
  if (!window.confirm(t("admin.revokeConfirm", { name: username }))) return;
  if (await run(`/users/${encodeURIComponent(username)}/revoke`, {}, t("admin.revokedOne", { name: username }))) {
    await (sections() === "teams" ? loadTeamAccounts() : loadUsers());
  }
}

// ------------------------------------------------------------------ team phone logins

async function loadTeamAccounts() {
  options($("#team-select"), state.teams.map((tm) => [tm.id, `${tm.name}（${unitName(tm.unit_code)}）`]));
  const team = $("#team-select").value;
  state.teamAccounts = [];
  if (team) {
    try {
      state.teamAccounts = (await api.get(`/teams/${encodeURIComponent(team)}/accounts`)).items || [];
    } catch (ex) {
      fail(ex);
    }
  }
  $("#team-head").innerHTML = `<tr>${["admin.username", "admin.displayName", "admin.state", "admin.actions"]
    .map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  $("#team-body").innerHTML = state.teamAccounts.length
    ? state.teamAccounts.map((u) => `<tr><td>${esc(u.username)}</td><td>${esc(u.display_name)}</td>
        <td>${esc(t(u.active ? "admin.active" : "admin.revoked"))}</td>
        <td>${u.active ? `<button class="btn btn-sm btn-danger" type="button" data-revoke="${esc(u.username)}" ${command("POST /users/{username}/revoke")}>${esc(t("admin.revoke"))}</button>` : ""}</td></tr>`).join("")
    : `<tr><td colspan="4" class="empty">${esc(t("admin.noTeamAccounts"))}</td></tr>`;
}

async function onIssue() {
  const team = $("#team-select").value;
  if (!team) return;
  const answer = await run(`/teams/${encodeURIComponent(team)}/accounts`, {}, t("admin.issued"));
  if (!answer) return;
  const box = $("#team-password");
  box.hidden = false;
  box.innerHTML = `<strong>${esc(t("admin.passwordOnce"))}</strong>
    <span>${esc(t("admin.username"))}：<code>${esc(answer.username)}</code></span>
    <span>${esc(t("admin.password"))}：<code data-testid="issued-password">${esc(answer.password)}</code></span>`;
  await loadTeamAccounts();
}

// ------------------------------------------------------------------ warehouse stock

function renderStock() {
  options($("#warehouse-select"), state.warehouses.map((w) => [w.id, w.name]));
  const w = state.warehouses.find((x) => x.id === $("#warehouse-select").value);
  for (const sel of document.querySelectorAll(".material-select")) {
    options(sel, materialList().map((m) => [m.code, `${materialName(m.code)}（${m.unit}）`]));
  }
  $("#stock-head").innerHTML = `<tr>${["admin.material", "admin.onHand", "admin.reserved", "admin.minimum"]
    .map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  const rows = Object.entries(w?.stock || {}).sort(([a], [b]) => a.localeCompare(b));
  $("#stock-body").innerHTML = rows.map(([code, s]) => `<tr class="${s.on_hand - s.reserved < s.minimum ? "is-short" : ""}">
      <td>${esc(materialName(code))}</td><td>${esc(`${s.on_hand} ${materialUnit(code)}`)}</td>
      <td>${esc(String(s.reserved))}</td><td>${esc(String(s.minimum))}${s.on_hand - s.reserved < s.minimum ? ` <strong>${esc(t("admin.short"))}</strong>` : ""}</td></tr>`).join("");
}

async function reloadWarehouses(position) {
  const q = position ? `?min_position=${position}` : "";
  state.warehouses = (await api.get(`/warehouses${q}`)).items || [];
  renderStock();
}

function stockForm(form, path, bodyOf, doneKey) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const warehouse = $("#warehouse-select").value;
    const f = Object.fromEntries(new FormData(form).entries());
    const answer = await run(`/warehouses/${encodeURIComponent(warehouse)}/${path}`, bodyOf(f), t(doneKey, { name: materialName(f.code) }));
    if (answer) {
      form.reset();
      await reloadWarehouses(answer.position);
    }
  });
}

// ------------------------------------------------------------------ the relay

async function loadRelay() {
  let r = null;
  try {
    r = await api.get("/relay");
  } catch (ex) {
    if (ex.status !== 404) fail(ex);
  }
  state.relay = r;
  const rows = r
    ? [["admin.relayState", t(r.paused || r.alarm ? "admin.relayStopped" : "admin.relayRunning")],
       ["admin.relayPosition", `${r.position} / ${r.head}`], ["admin.relayLag", t("admin.relayLagValue", { n: r.lag_events, s: r.lag_seconds })],
       ["admin.relayLastSuccess", r.last_success_at ? fmtDateTime(r.last_success_at) : "—"], ["admin.relayError", r.last_error || "—"]]
    : [["admin.relayState", t("admin.relayNone")]];
  $("#relay-state").innerHTML = rows.map(([k, v]) => `<div><dt>${esc(t(k))}</dt><dd>${esc(v)}</dd></div>`).join("");
  $("#relay-resume").hidden = !(r && (r.paused || r.alarm) && can(state.user?.role, "POST /relay/resume"));
}

async function onResume() {
  if (await run("/relay/resume", {}, t("admin.resumed"))) await loadRelay();
}

// ------------------------------------------------------------------ new teams and warehouses (登记)

function registerForms() {
  const units = state.units.map((u) => [u.code, `${label("unitKind", u.kind)} · ${u.name}`]);
  options($("#team-kind"), Object.keys(GLOSSARY.teamKind.zh).map((k) => [k, label("teamKind", k)]));
  options($("#team-unit"), units);
  options($("#warehouse-unit"), units);
}

async function onRegister(e, path, body, done) {
  e.preventDefault();
  const f = Object.fromEntries(new FormData(e.target));
  if (await run(path, body(f), t(done), e.submitter)) e.target.reset();
}

// ------------------------------------------------------------------ the organisation tree (登记单位)

const levelOf = (u) => UNIT_LEVEL_OF_KIND[u.kind];

function renderUnits() {
  $("#units-head").innerHTML = `<tr>${["admin.unitCode", "admin.unitName", "admin.unitKind", "admin.unitParent"]
    .map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr>`;
  $("#units-body").innerHTML = state.units.map((u) => `<tr>
      <td><code>${esc(u.code)}</code></td><td>${esc(levelOf(u) === 2 ? `　${u.name}` : u.name)}</td>
      <td>${esc(label("unitKind", u.kind))}</td><td>${esc(u.parent_code ? unitName(u.parent_code) : "—")}</td></tr>`).join("");
}

/** The kinds a unit under `parent` may be (one level below it), and the code digits the parent fixes. */
function unitChoices() {
  const parent = state.units.find((u) => u.code === $("#u-parent").value);
  const level = parent ? levelOf(parent) : -1;
  options($("#u-kind"), UNIT_KINDS.filter((k) => UNIT_LEVEL_OF_KIND[k] === level + 1).map((k) => [k, label("unitKind", k)]));
  const prefix = parent ? parent.code.slice(0, UNIT_PREFIX_LENGTH[level]) : "";
  const code = $("#u-code");
  if (!code.value.startsWith(prefix) || code.value.length <= prefix.length) code.value = prefix;
  $("#u-hint").textContent = parent ? t("admin.unitCodeHint", { prefix, n: 12 - prefix.length }) : "";
}

function openUnit() {
  const form = $("#unit-form");
  form.reset();
  state.unitCommand = new api.Command("/units"); // one key for this registration, kept across its retries
  options($("#u-parent"), state.units.filter((u) => levelOf(u) < UNIT_PREFIX_LENGTH.length - 1)
    .map((u) => [u.code, `${levelOf(u) ? "　" : ""}${u.name}（${label("unitKind", u.kind)}）`]));
  $("#u-code").value = "";
  unitChoices();
  unitError(null);
  $("#unit-dialog").showModal();
  $("#u-parent").focus();
}

function unitError(ex) {
  const box = $("#unit-error");
  for (const el of $("#unit-form").querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  box.hidden = !ex;
  if (!ex) return;
  const field = ex.problem?.field && $(`#unit-form [name="${ex.problem.field}"]`);
  const named = field ? `（${field.closest("label").querySelector("span").textContent}）` : "";
  box.textContent = `${ex.heading}${named}${ex.detail ? ` — ${ex.detail}` : ""}${ex.fieldErrors?.length ? `（${ex.fieldErrors.join("；")}）` : ""}`;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

async function onUnitSubmit(e) {
  e.preventDefault();
  const form = e.target;
  const invalid = [...form.querySelectorAll("input, select")].find((el) => !el.checkValidity());
  if (invalid) {
    unitError({ heading: label("errorCode", "validation_error"), problem: { field: invalid.name }, detail: invalid.validationMessage });
    return;
  }
  const f = Object.fromEntries(new FormData(form));
  const body = { code: f.code.trim(), name: f.name.trim(), kind: f.kind };
  $("#unit-submit").disabled = true;
  try {
    const answer = await state.unitCommand.send(body);
    $("#unit-dialog").close();
    say(t("admin.unitRegistered", { name: body.name }));
    state.units = ((await api.get(`/units?min_position=${answer.position}`)).items || []).sort((a, b) => a.code.localeCompare(b.code));
    registerForms();
    renderUnits();
  } catch (ex) {
    unitError(ex);
  } finally {
    $("#unit-submit").disabled = false;
  }
}

// ------------------------------------------------------------------ start

function init() {
  $("#user-form").addEventListener("submit", onAddUser);
  $("#user-role-select").addEventListener("change", renderUserTeams);
  $("#user-unit").addEventListener("change", renderUserTeams);
  $("#team-select").addEventListener("change", loadTeamAccounts);
  $("#issue-team").addEventListener("click", onIssue);
  $("#warehouse-select").addEventListener("change", renderStock);
  $("#relay-resume").addEventListener("click", onResume);
  $("#unit-add").addEventListener("click", openUnit);
  $("#u-parent").addEventListener("change", unitChoices);
  $("#unit-form").addEventListener("submit", onUnitSubmit);
  for (const id of ["#unit-close", "#unit-cancel"]) $(id).addEventListener("click", () => $("#unit-dialog").close());
  $("#team-form").addEventListener("submit", (e) => onRegister(e, "/teams",
    (f) => ({ name: f.name.trim(), kind: f.kind, unit_code: f.unit_code, members: Number(f.members) }), "admin.registered"));
  $("#warehouse-form").addEventListener("submit", (e) => onRegister(e, "/warehouses",
    (f) => ({ name: f.name.trim(), unit_code: f.unit_code, address: f.address.trim() }), "admin.registered"));
  document.addEventListener("click", (e) => {
    const b = e.target.closest("[data-revoke]");
    if (b) onRevoke(b.dataset.revoke);
  });
  stockForm($("#receipt-form"), "receipts", (f) => ({ lines: { [f.code]: Number(f.quantity) }, note: f.note || "" }), "admin.received");
  stockForm($("#count-form"), "counts", (f) => ({ code: f.code, counted: Number(f.counted), note: f.note || "" }), "admin.countedOne");
  stockForm($("#minimum-form"), "minimums", (f) => ({ code: f.code, minimum: Number(f.minimum) }), "admin.minimumSet");
  window.addEventListener("hashchange", () => {
    say("");
    show();
  });
  onLangChange(() => show());
  startShell({
    route: "GET /warehouses",
    onStart: async (user) => {
      state.user = user;
      const [units, teams, warehouses, materials] = await Promise.all(
        ["/units", "/teams?limit=1000", "/warehouses?limit=1000", "/materials"].map((p) => api.get(p).catch(() => ({ items: [] }))));
      state.units = (units.items || []).sort((a, b) => a.code.localeCompare(b.code));
      // by unit, then name: a steady order (the API lists the newest change first, which moves with every dispatch)
      state.teams = (teams.items || []).sort((a, b) => a.unit_code.localeCompare(b.unit_code) || a.name.localeCompare(b.name, "zh"));
      state.warehouses = warehouses.items || [];
      setMaterials(materials.items || []);
      registerForms();
      await show();
    },
  });
}

init();
