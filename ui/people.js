// 应急通讯录: the people register searched by name, post and unit on the server's indexed columns, a page at a
// time by the keyset cursor; add and edit people and their posts (the posts a unit of each kind has come from
// vocab.js); training sessions with their attendees. Phones are tel: links (a tap dials on a phone); the server
// returns only the people of the account's own scope. The address keeps the filter.
import * as api from "./api.js";
import { esc, fmtTotal } from "./format.js";
import { label, onLangChange, t } from "./i18n.js";
import { PagedList } from "./results.js";
import { startShell } from "./shell.js";
import { can, command, known, POSTS, POSTS_BY_KIND } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const PAGE = 50;
const FIELDS = ["q", "unit", "post", "status"];
const state = { units: [], scope: "", user: null, list: null, trainings: [], editing: null, training: null, candidates: [] };

const unitOf = (code) => state.units.find((u) => u.code === code);
const unitName = (code) => unitOf(code)?.name || code || "";
const may = (route) => can(state.user?.role, route);
const tel = (phone) => `<a href="tel:${esc(String(phone).replace(/[\s-]/g, ""))}">${esc(phone)}</a>`;
const posts = (list) => (list || []).map((p) => label("post", p)).join("、");
const inScope = (u) => u.code.startsWith(state.scope); // scope_prefix from the server ("" for the whole district)

function options(select, entries, anyKey) {
  const current = select.value;
  select.innerHTML = (anyKey ? `<option value="">${esc(t(anyKey))}</option>` : "") +
    entries.map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`).join("");
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function unitEntries() {
  return state.units.filter(inScope).sort((a, b) => a.code.localeCompare(b.code))
    .map((u) => [u.code, `${u.kind === "village" || u.kind === "community" ? "　" : ""}${u.name}`]);
}

function renderChoices() {
  options($("#f-unit"), unitEntries(), "records.anyUnit");
  options($("#f-post"), POSTS.map((p) => [p, label("post", p)]), "records.any");
  options($("#f-status"), [["active", label("personStatus", "active")], ["left", label("personStatus", "left")], ["all", t("people.all")]], null);
  options($("#p-unit"), unitEntries(), null);
  options($("#t-unit"), unitEntries(), null);
}

function readAddress() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  renderChoices();
  for (const f of FIELDS) $(`#f-${f}`).value = h.get(f) || (f === "status" ? "active" : "");
}

function writeAddress() {
  const h = new URLSearchParams();
  for (const f of FIELDS) if ($(`#f-${f}`).value && !(f === "status" && $("#f-status").value === "active")) h.set(f, $(`#f-${f}`).value);
  const hash = h.toString() ? `#${h}` : "";
  if (location.hash !== hash) history.replaceState(null, "", location.pathname + hash);
}

function query(cursor, limit = PAGE) {
  const p = new URLSearchParams({ limit: String(limit) });
  for (const f of FIELDS) {
    const v = $(`#f-${f}`).value.trim();
    if (v && !(f === "status" && v === "all")) p.set(f, v);
  }
  if (cursor) p.set("cursor", cursor);
  return p;
}

function showError(el, ex) {
  el.hidden = !ex;
  if (ex) el.textContent = api.problemText(ex);
}

const search = (page = 0, minPosition = 0) => state.list.show(page, minPosition);

const COLUMNS = [
  ["people.unit", "unit", (d) => esc(unitName(d.unit_code))],
  ["people.name", "name", (d) => esc(d.name)],
  ["people.phone", "phone", (d) => tel(d.phone)],
  ["people.post", "posts", (d) => esc(posts(d.posts))],
  ["people.lastTrained", "trained", (d) => d.last_trained ? esc(d.last_trained)
    : (d.posts.includes("info_reporter") ? `<span class="untrained">${esc(t("people.untrained"))}</span>` : "—")],
  ["people.status", "status", (d) => esc(label("personStatus", d.status))],
];

function renderResults() {
  const edit = may("POST /people/{person_id}/contact");
  state.list.render(`${COLUMNS.map(([key, cls]) => `<th scope="col" class="${cls}">${esc(t(key))}</th>`).join("")}${
    edit ? `<th scope="col" class="actions">${esc(t("people.actions"))}</th>` : ""}`,
  (d) => `<tr class="${d.status === "left" ? "left" : ""}">${COLUMNS.map(([, cls, cell]) => `<td class="${cls}">${cell(d)}</td>`).join("")}${
    edit ? `<td class="actions">${d.status === "active" ? `<button class="btn btn-ghost" type="button" data-edit="${esc(d.id)}"
      ${command("POST /people/{person_id}/contact")}
      aria-label="${esc(t("people.editOf", { name: d.name }))}">${esc(t("people.edit"))}</button>` : ""}</td>` : ""}</tr>`,
  COLUMNS.length + (edit ? 1 : 0));
}

// -- a person: add or edit ---------------------------------------------------------------------------------
function renderPostChoices(chosen = []) {
  const kind = unitOf($("#p-unit").value)?.kind;
  const allowed = POSTS_BY_KIND[kind] || [];
  $("#p-posts").innerHTML = allowed.map((p) => `<label><input type="checkbox" name="posts" value="${esc(p)}"${
    chosen.includes(p) ? " checked" : ""}> ${esc(label("post", p))}</label>`).join("");
}

function openPerson(doc = null) {
  state.editing = doc;
  $("#person-title").textContent = t(doc ? "people.editTitle" : "people.addTitle");
  $("#p-unit").value = doc ? doc.unit_code : ($("#f-unit").value || $("#p-unit").value);
  $("#p-unit").disabled = !!doc;
  $("#p-name").value = doc?.name || "";
  $("#p-phone").value = doc?.phone || "";
  $("#p-left-field").hidden = !doc || !may("POST /people/{person_id}/left");
  $("#p-left-reason").value = "";
  $("#p-account-field").hidden = !doc || !may("POST /people/{person_id}/account");
  $("#p-account").value = doc?.account || "";
  renderPostChoices(doc?.posts || []);
  showError($("#person-error"), null);
  $("#person-dialog").showModal();
  $("#p-name").focus();
}

async function savePerson(e) {
  e.preventDefault();
  const chosen = [...document.querySelectorAll('#p-posts input[name="posts"]:checked')].map((i) => i.value);
  const name = $("#p-name").value.trim();
  const phone = $("#p-phone").value.trim();
  const doc = state.editing;
  $("#person-submit").disabled = true;
  try {
    let last;
    if (!doc) {
      last = await new api.Command("/people").send({ unit_code: $("#p-unit").value, name, phone, posts: chosen });
    } else {
      if (name !== doc.name || phone !== doc.phone) last = await new api.Command(`/people/${doc.id}/contact`).send({ name, phone });
      const same = chosen.length === doc.posts.length && chosen.every((p) => doc.posts.includes(p));
      if (!same) last = await new api.Command(`/people/${doc.id}/posts`).send({ posts: chosen, team_id: doc.team_id });
    }
    $("#person-dialog").close();
    if (!doc) $("#f-q").value = name; // find the one just added
    writeAddress();
    state.list.restart();
    await search(0, last?.position || 0);
  } catch (ex) {
    showError($("#person-error"), ex);
  } finally {
    $("#person-submit").disabled = false;
  }
}

async function linkAccount() {
  const doc = state.editing;
  try {
    const r = await new api.Command(`/people/${doc.id}/account`).send({ username: $("#p-account").value.trim() });
    $("#person-dialog").close();
    await search(state.list.page, r.position);
  } catch (ex) {
    showError($("#person-error"), ex);
  }
}

async function markLeft() {
  const doc = state.editing;
  try {
    const r = await new api.Command(`/people/${doc.id}/left`).send({ reason: $("#p-left-reason").value.trim() });
    $("#person-dialog").close();
    await search(state.list.page, r.position);
  } catch (ex) {
    showError($("#person-error"), ex);
  }
}

// -- training sessions --------------------------------------------------------------------------------------
async function loadTrainings(minPosition = 0) {
  showError($("#trainings-error"), null);
  try {
    const p = new URLSearchParams({ limit: "100" });
    if ($("#f-unit").value) p.set("unit", $("#f-unit").value);
    if (minPosition) p.set("min_position", String(minPosition));
    state.trainings = (await api.get(`/trainings?${p}`)).items;
    renderTrainings();
  } catch (ex) {
    showError($("#trainings-error"), ex);
  }
}

function renderTrainings() {
  const add = may("POST /trainings/{training_id}/attendees");
  const cols = ["people.day", "people.level", "people.organiser", "people.topic", "people.hours", "people.attendees"];
  $("#trainings-head").innerHTML = `<tr>${cols.map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}${
    add ? `<th scope="col">${esc(t("people.actions"))}</th>` : ""}</tr>`;
  const rows = [...state.trainings].sort((a, b) => b.day.localeCompare(a.day));
  $("#trainings-body").innerHTML = rows.length ? rows.map((s) => `<tr><td>${esc(s.day)}</td><td>${esc(label("trainingLevel", s.level))}</td>
      <td>${esc(unitName(s.unit_code))}</td><td>${esc(s.topic)}</td><td>${esc(s.hours)}</td>
      <td>${esc(t("people.attendeeCount", { n: s.attendee_count }))}：${esc(s.attendees.slice(0, 8).map((a) => a.name).join("、"))}${
        s.attendees.length > 8 ? "……" : ""}</td>${add ? `<td><button class="btn btn-ghost" type="button" data-more="${esc(s.id)}"
        ${command("POST /trainings/{training_id}/attendees")}>${
        esc(t("people.addAttendees"))}</button></td>` : ""}</tr>`).join("")
    : `<tr><td colspan="${cols.length + (add ? 1 : 0)}" class="empty">${esc(t("people.noTrainings"))}</td></tr>`;
}

async function loadCandidates() {
  const unit = $("#t-unit").value;
  const p = new URLSearchParams({ status: "active", limit: "1000" });
  if (unit) p.set("unit", unit);
  state.candidates = (await api.get(`/people?${p}`)).items.sort((a, b) => a.unit_code.localeCompare(b.unit_code) || a.name.localeCompare(b.name));
  renderCandidates();
}

function renderCandidates() {
  const word = $("#t-find").value.trim();
  const already = new Set((state.training?.attendees || []).map((a) => a.id));
  const checked = new Set([...document.querySelectorAll("#t-people input:checked")].map((i) => i.value));
  $("#t-people").innerHTML = state.candidates.filter((p) => !already.has(p.id) && (!word || p.name.includes(word)))
    .map((p) => `<label><input type="checkbox" value="${esc(p.id)}"${checked.has(p.id) ? " checked" : ""}> ${esc(p.name)}
      <span class="unit">${esc(unitName(p.unit_code))} · ${esc(posts(p.posts))}</span></label>`).join("") ||
    `<p class="empty">${esc(t("records.none"))}</p>`;
}

async function openTraining(session = null) {
  state.training = session;
  $("#training-title").textContent = t(session ? "people.addAttendees" : "people.addTraining");
  for (const id of ["#t-unit", "#t-day", "#t-hours", "#t-topic", "#t-notes"]) $(id).disabled = !!session;
  $("#t-unit").value = session ? session.unit_code : ($("#f-unit").value || $("#t-unit").value);
  $("#t-day").value = session ? session.day : new Date().toLocaleDateString("sv-SE"); // today, YYYY-MM-DD, local
  $("#t-hours").value = session ? session.hours : "";
  $("#t-topic").value = session ? session.topic : "";
  $("#t-notes").value = session ? session.notes || "" : "";
  $("#t-find").value = "";
  $("#t-people").innerHTML = "";
  showError($("#training-error"), null);
  $("#training-dialog").showModal();
  try {
    await loadCandidates();
  } catch (ex) {
    showError($("#training-error"), ex);
  }
}

async function saveTraining(e) {
  e.preventDefault();
  const attendees = [...document.querySelectorAll("#t-people input:checked")].map((i) => i.value);
  $("#training-submit").disabled = true;
  try {
    const s = state.training;
    const r = s
      ? await new api.Command(`/trainings/${s.id}/attendees`).send({ attendees })
      : await new api.Command("/trainings").send({ unit_code: $("#t-unit").value, day: $("#t-day").value, topic: $("#t-topic").value.trim(),
        hours: Number($("#t-hours").value), attendees, notes: $("#t-notes").value.trim() });
    $("#training-dialog").close();
    await Promise.all([loadTrainings(r.position), search(state.list.page, r.position)]);
  } catch (ex) {
    showError($("#training-error"), ex);
  } finally {
    $("#training-submit").disabled = false;
  }
}

// -- printing: the whole directory under the filter, on paper ------------------------------------------------
async function printDirectory() {
  try {
    const body = await api.get(`/people?${query(null, 1000)}`);
    state.list.last = { ...body, items: body.items.sort((a, b) => a.unit_code.localeCompare(b.unit_code) || a.name.localeCompare(b.name)) };
    renderResults();
    const unit = $("#f-unit").value ? unitName($("#f-unit").value) : t("people.allUnits");
    const post = $("#f-post").value ? label("post", $("#f-post").value) : "";
    $("#print-note").textContent = [t("people.heading"), unit, post, t("records.count", { total: fmtTotal(body) })].filter(Boolean).join(" · ");
    window.print();
  } catch (ex) {
    state.list.error(ex);
  }
}

function onSubmit(e) {
  e.preventDefault();
  writeAddress();
  state.list.restart();
  search(0);
  loadTrainings();
}

function init() {
  state.list = new PagedList($("#results-section"), {
    pageSize: PAGE, tableClass: "people-table", draw: renderResults,
    fetch: (cursor, minPosition) => {
      const p = query(cursor);
      if (minPosition) p.set("min_position", String(minPosition)); // read our own write
      return api.get(`/people?${p}`);
    },
    busy: (on) => { $("#f-submit").disabled = on; },
  });
  $("#filters").addEventListener("submit", onSubmit);
  $("#f-reset").addEventListener("click", () => {
    for (const f of FIELDS) $(`#f-${f}`).value = f === "status" ? "active" : "";
    onSubmit(new Event("submit"));
  });
  $("#f-export").addEventListener("click", () => {
    const p = query(null);
    p.delete("limit");
    p.set("format", "xlsx");
    api.downloadFile(`/people?${p}`, `${t("people.heading")}.xlsx`).catch((ex) => state.list.error(ex));
  });
  $("#f-print").addEventListener("click", printDirectory);
  window.addEventListener("afterprint", () => search(state.list.page));
  $("#f-add").addEventListener("click", () => openPerson());
  $("#results-body").addEventListener("click", (e) => {
    const id = e.target.closest("[data-edit]")?.dataset.edit;
    if (id) openPerson(state.list.last.items.find((d) => d.id === id));
  });
  $("#p-unit").addEventListener("change", () => renderPostChoices());
  $("#person-form").addEventListener("submit", savePerson);
  $("#p-left").addEventListener("click", markLeft);
  $("#p-link").addEventListener("click", linkAccount);
  // The controls name the command they send (the every-command browser test collects them).
  $("#f-add").dataset.command = known("POST /people");
  $("#t-add").dataset.command = known("POST /trainings");
  $("#p-posts-field").dataset.command = known("POST /people/{person_id}/posts");
  $("#p-left").dataset.command = known("POST /people/{person_id}/left");
  $("#p-link").dataset.command = known("POST /people/{person_id}/account");
  for (const id of ["#person-close", "#person-cancel"]) $(id).addEventListener("click", () => $("#person-dialog").close());
  $("#t-add").addEventListener("click", () => openTraining());
  $("#trainings-body").addEventListener("click", (e) => {
    const id = e.target.closest("[data-more]")?.dataset.more;
    if (id) openTraining(state.trainings.find((s) => s.id === id));
  });
  $("#t-unit").addEventListener("change", () => loadCandidates().catch((ex) => showError($("#training-error"), ex)));
  $("#t-find").addEventListener("input", renderCandidates);
  $("#training-form").addEventListener("submit", saveTraining);
  for (const id of ["#training-close", "#training-cancel"]) $(id).addEventListener("click", () => $("#training-dialog").close());
  window.addEventListener("hashchange", () => {
    readAddress();
    state.list.restart();
    search(0);
  });
  onLangChange(() => {
    renderChoices();
    renderResults();
    renderTrainings();
  });
  startShell({
    route: "GET /people",
    onStart: async (user) => {
      state.user = user;
      const [units, me] = await Promise.all([api.get("/units").catch(() => ({ items: [] })), api.get("/auth/me").catch(() => user)]);
      state.units = units.items || [];
      state.user = me;
      state.scope = me.scope_prefix || "";
      $("#f-add").hidden = !may("POST /people");
      $("#t-add").hidden = !may("POST /trainings");
      readAddress();
      await Promise.all([search(0), loadTrainings()]);
    },
    onSignOut: () => {
      state.list.clear();
      state.trainings = [];
      $("#trainings-body").innerHTML = "";
    },
  });
}

init();
