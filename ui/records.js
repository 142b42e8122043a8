// Records search (记录检索): incidents, dispatches and allocations filtered on the server's indexed
// columns (text, street or village, category, level, status, dates), a page at a time by the
// server's keyset cursor. The address keeps the filter, so a search can be shared or bookmarked.
// A delivered allocation can be given back from its row (退回: what the incident did not use goes
// back to the warehouse), when the role's table lets the account return materials.
import * as api from "./api.js";
import { esc, fmtDateTime } from "./format.js";
import { label, labels, materialName, materialUnit, onLangChange, setMaterials, t } from "./i18n.js";
import { PagedList } from "./results.js";
import { startShell } from "./shell.js";
import { CATEGORIES, HARM_FIELDS, LEVELS, UNIT_KINDS, can, command } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const PAGE = 50;

// What each kind of record lists: its route, the glossary group of its statuses, and its columns.
const KINDS = {
  incidents: {
    route: "/incidents", statusGroup: "incidentStatus",
    columns: [
      ["records.col.occurred", (d) => esc(fmtDateTime(d.occurred_at))],
      ["records.col.title", (d) => `${drillTag(d)}<a href="replay.html#incident=${encodeURIComponent(d.id)}">${esc(d.title)}</a>`],
      ["records.col.place", (d) => esc([unitName(d.unit_code), d.address].filter(Boolean).join(" · "))],
      ["records.col.type", (d) => esc(`${label("category", d.category)} · ${label("subtype", d.subtype)}`)],
      ["records.col.level", (d) => `<span class="lv lv-${esc(d.level)}">${esc(label("levelShort", d.level))}</span>`],
      ["records.col.status", (d) => esc(label("incidentStatus", d.status))],
      ["records.col.harm", (d) => esc(harm(d.situation))],
    ],
  },
  dispatches: {
    route: "/dispatches", statusGroup: "dispatchStatus",
    columns: [
      ["records.col.ordered", (d) => esc(fmtDateTime(d.ordered_at))],
      ["records.col.incident", (d) => `${drillTag(d)}<a href="replay.html#incident=${encodeURIComponent(d.incident_id)}">${esc(d.incident_title)}</a>`],
      ["records.col.team", (d) => esc(d.team_name)],
      ["records.col.task", (d) => esc(d.task)],
      ["records.col.level", (d) => `<span class="lv lv-${esc(d.incident_level)}">${esc(label("levelShort", d.incident_level))}</span>`],
      ["records.col.status", (d) => esc(label("dispatchStatus", d.status))],
    ],
  },
  allocations: {
    route: "/allocations", statusGroup: "allocationStatus",
    columns: [
      ["records.col.requested", (d) => esc(fmtDateTime(d.requested_at))],
      ["records.col.incident", (d) => `<a href="replay.html#incident=${encodeURIComponent(d.incident_id)}">${esc(d.incident_title)}</a>`],
      ["records.col.destination", (d) => esc(d.destination)],
      ["records.col.lines", (d) => esc(Object.entries(d.lines || {}).map(([code, n]) => `${materialName(code)}×${n}`).join("、"))],
      ["records.col.status", (d) => esc(label("allocationStatus", d.status))],
    ],
  },
};
/** 演练: an exercise incident or dispatch, marked as such wherever it is listed. */
function drillTag(d) {
  return d.exercise ? `<span class="drill-tag">${esc(label("exercise", "true"))}</span> ` : "";
}
const FIELDS = ["q", "unit", "category", "level", "status", "since", "until"];

const state = { units: [], kind: "incidents", user: null, returning: null, list: null };
const RETURN = "POST /allocations/{allocation_id}/return";

function unitName(code) {
  return state.units.find((u) => u.code === code)?.name || code || "";
}

function harm(s) {
  if (!s) return "";
  const parts = HARM_FIELDS.filter((k) => s[k]).map((k) => `${label("situation", k)}${s[k]}`);
  return parts.join(" ") || "—";
}

function options(select, entries, anyKey) {
  const current = select.value;
  select.innerHTML = `<option value="">${esc(t(anyKey))}</option>` +
    entries.map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`).join("");
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function renderChoices() {
  const kinds = UNIT_KINDS.filter((k) => k !== "district");
  const units = state.units.filter((u) => kinds.includes(u.kind)).sort((a, b) => a.code.localeCompare(b.code));
  options($("#f-unit"), units.map((u) => [u.code, `${u.kind === "street" || u.kind === "cluster" ? "" : "　"}${u.name}`]), "records.anyUnit");
  options($("#f-category"), CATEGORIES.map((c) => [c, label("category", c)]), "records.any");
  options($("#f-level"), LEVELS.map((l) => [l, label("levelShort", l)]), "records.any");
  options($("#f-status"), Object.entries(labels(KINDS[state.kind].statusGroup)), "records.any");
  for (const el of document.querySelectorAll("[data-only]")) el.hidden = !el.dataset.only.split(" ").includes(state.kind);
}

/** The filter in the address bar (#kind=…&q=…): what is shared is what is searched. */
function readAddress() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  state.kind = KINDS[h.get("kind")] ? h.get("kind") : "incidents";
  for (const radio of document.querySelectorAll('input[name="kind"]')) radio.checked = radio.value === state.kind;
  renderChoices();
  for (const f of FIELDS) $(`#f-${f}`).value = h.get(f) || "";
}

function writeAddress() {
  const h = new URLSearchParams({ kind: state.kind });
  for (const f of FIELDS) if ($(`#f-${f}`).value && !$(`#f-${f}`).closest("[hidden]")) h.set(f, $(`#f-${f}`).value);
  const hash = `#${h}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function query(cursor) {
  const p = new URLSearchParams({ limit: String(PAGE) });
  for (const f of FIELDS) {
    const el = $(`#f-${f}`);
    if (el.value && !el.closest("[hidden]")) p.set(f, f === "q" ? el.value.trim() : el.value);
  }
  if (cursor) p.set("cursor", cursor);
  return `${KINDS[state.kind].route}?${p}`;
}

const search = (page = 0, minPosition = 0) => state.list.show(page, minPosition);

/** What of a delivered allocation is still out (delivered, not yet returned), material by material. */
function outstanding(a) {
  return Object.entries(a.lines || {}).map(([code, n]) => [code, n - (a.returned?.[code] || 0)]).filter(([, n]) => n > 0);
}

/** The row's control: 退回 on a delivered allocation with something still out. */
function actionsOf(d) {
  if (state.kind !== "allocations" || d.status !== "delivered" || !outstanding(d).length) return "";
  return `<button class="btn btn-sm" type="button" data-return="${esc(d.id)}" ${command(RETURN)}
    aria-label="${esc(t("records.returnOf", { what: d.incident_title }))}">${esc(t("records.return"))}</button>`;
}

function renderResults() {
  const kind = KINDS[state.kind];
  const acts = state.kind === "allocations" && can(state.user?.role, RETURN);
  state.list.render(`${kind.columns.map(([key]) => `<th scope="col">${esc(t(key))}</th>`).join("")}${
    acts ? `<th scope="col">${esc(t("records.actions"))}</th>` : ""}`,
  (d) => `<tr>${kind.columns.map(([, cell]) => `<td>${cell(d)}</td>`).join("")}${acts ? `<td>${actionsOf(d)}</td>` : ""}</tr>`,
  kind.columns.length + (acts ? 1 : 0));
}

// -- 退回: give back what a delivered allocation did not use ---------------------------------------------------
function openReturn(id) {
  const a = state.list.last?.items.find((d) => d.id === id);
  if (!a) return;
  state.returning = { allocation: a, command: new api.Command(`/allocations/${encodeURIComponent(a.id)}/return`) };
  $("#return-ref").textContent = `${a.incident_title} · ${a.warehouse_name} → ${a.destination || "—"}`;
  $("#return-lines").innerHTML = outstanding(a).map(([code, n]) => `<label><span>${esc(materialName(code))}（${esc(t("records.returnOut", { n, unit: materialUnit(code) }))}）</span>
    <input type="number" name="${esc(code)}" min="0" max="${n}" step="1" value="${n}" required inputmode="numeric"></label>`).join("");
  $("#return-note").value = "";
  $("#return-error").hidden = true;
  $("#return-dialog").showModal();
  $("#return-lines input")?.focus();
}

async function onReturn(e) {
  e.preventDefault();
  const { allocation: a, command: cmd } = state.returning;
  const err = $("#return-error");
  const inputs = [...$("#return-lines").querySelectorAll("input")];
  const bad = inputs.find((el) => !el.checkValidity());
  const lines = Object.fromEntries(inputs.map((el) => [el.name, Number(el.value)]).filter(([, n]) => n > 0));
  if (bad || !Object.keys(lines).length) {
    err.hidden = false;
    err.textContent = bad ? `${bad.closest("label").querySelector("span").textContent}：${bad.validationMessage}` : t("records.returnNothing");
    (bad || inputs[0])?.focus();
    return;
  }
  $("#return-submit").disabled = true;
  try {
    const answer = await cmd.send({ lines, note: $("#return-note").value.trim() });
    $("#return-dialog").close();
    await search(state.list.page, answer.position);
  } catch (ex) {
    err.hidden = false;
    err.textContent = `${ex.heading}${ex.detail ? ` — ${ex.detail}` : ""}${ex.fieldErrors?.length ? `（${ex.fieldErrors.join("；")}）` : ""}`;
  } finally {
    $("#return-submit").disabled = false;
  }
}

function onSubmit(e) {
  e.preventDefault();
  writeAddress();
  state.list.restart();
  search(0);
}

function init() {
  state.list = new PagedList($("#results-section"), {
    pageSize: PAGE,
    fetch: (cursor, minPosition) => api.get(query(cursor) + (minPosition ? `&min_position=${minPosition}` : "")), // read our own write
    draw: renderResults,
    busy: (on) => { $("#f-submit").disabled = on; },
  });
  $("#filters").addEventListener("submit", onSubmit);
  $("#filters").addEventListener("change", (e) => {
    if (e.target.name !== "kind") return;
    state.kind = e.target.value;
    renderChoices();
    onSubmit(e);
  });
  $("#f-reset").addEventListener("click", () => {
    for (const f of FIELDS) $(`#f-${f}`).value = "";
    onSubmit(new Event("submit"));
  });
  $("#f-export").addEventListener("click", async () => {
    const params = new URLSearchParams(query(null).split("?")[1]); // the filters on screen, every page of them
    params.delete("limit");
    params.set("format", "xlsx");
    try {
      await api.downloadFile(`${KINDS[state.kind].route}?${params}`, `${t("records.kind.incidents")}.xlsx`);
    } catch (ex) {
      state.list.error(ex);
    }
  });
  $("#results-body").addEventListener("click", (e) => {
    const id = e.target.closest("[data-return]")?.dataset.return;
    if (id) openReturn(id);
  });
  $("#return-form").addEventListener("submit", onReturn);
  for (const id of ["#return-close", "#return-cancel"]) $(id).addEventListener("click", () => $("#return-dialog").close());
  window.addEventListener("hashchange", () => {
    readAddress();
    state.list.restart();
    search(0);
  });
  onLangChange(() => {
    renderChoices();
    renderResults();
  });
  startShell({
    route: "GET /incidents",
    onStart: async (user) => {
      state.user = user;
      const [units, materials] = await Promise.all([api.get("/units").catch(() => ({ items: [] })),
        api.get("/materials").catch(() => ({ items: [] }))]);
      state.units = units.items || [];
      setMaterials(materials.items || []);
      readAddress();
      await search(0);
    },
    onSignOut: () => state.list.clear(),
  });
}

init();
