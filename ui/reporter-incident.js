// The reporter's incident form (上报灾情事件): category, type, level, what and where in the village,
// when it happened. The report goes through the phone's outbox (field-queue.js) like every other
// tap: kept on the phone with its own Idempotency-Key before it is sent, sent once when the network
// is there, so a report made in a valley without signal reaches the desk when the phone does.
// The village's incidents still open are listed under it, each with 更新灾情: the casualty and relief
// figures as they now stand (each only when it changed), through the same outbox.
import * as api from "./api.js";
import { esc, fmtHM, fromLocalInput, toLocalInput } from "./format.js";
import { label, t } from "./i18n.js";
import { CATEGORIES, INCIDENT_OPEN, LEVELS, SITUATION_FIELDS, SUBTYPES, command } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);

export class IncidentForm {
  /** `outbox`: the phone's one outbox; `unit`: the reporter's village; `toast(text)`. */
  constructor({ outbox, unit, toast, reporterName }) {
    this.outbox = outbox;
    this.unit = unit;
    this.toast = toast;
    this.reporterName = reporterName;
  }

  start() {
    $("#report-incident").addEventListener("click", () => this.open());
    $("#incident-cancel").addEventListener("click", () => $("#incident-sheet").close());
    $("#incident-form").addEventListener("submit", (e) => this.submit(e));
    $("#incident-category").addEventListener("change", () => this.renderSubtypes());
    $("#open-incidents").addEventListener("click", (e) => {
      const id = e.target.closest("[data-situation]")?.dataset.situation;
      if (id) this.openSituation(id);
    });
    $("#situation-cancel").addEventListener("click", () => $("#situation-sheet").close());
    $("#situation-form").addEventListener("submit", (e) => this.submitSituation(e));
  }

  /** The village's incidents still open (newest first), read again after one of our own writes. */
  async loadOpen(minPosition = 0) {
    const p = new URLSearchParams({ unit: this.unit.code, limit: "20" });
    for (const s of INCIDENT_OPEN) p.append("status", s);
    if (minPosition) p.set("min_position", String(minPosition));
    try {
      this.openItems = (await api.get(`/incidents?${p}`)).items ?? [];
    } catch {
      return; // offline: the list stays as it was
    }
    this.renderOpen();
  }

  renderOpen() {
    const items = this.openItems ?? [];
    $("#open-incidents-section").hidden = !items.length;
    $("#open-incidents").innerHTML = items.map((i) => {
      const queued = this.outbox.pendingFor("incident-situation", i.id).length > 0;
      const figures = SITUATION_FIELDS.filter((k) => i.situation?.[k]).map((k) => `${label("situation", k)} ${i.situation[k]}`).join("、");
      return `<li class="open-incident" data-testid="open-incident-${esc(i.id)}">
        <div class="oi-top"><span class="oi-level lv-${esc(i.level)}">${esc(label("levelShort", i.level))}</span>
          <b class="oi-title">${esc(i.title)}</b><span class="oi-status">${esc(label("incidentStatus", i.status))}</span></div>
        <div class="oi-figures">${esc(figures || t("reporter.situation.none"))}${queued ? ` · ${esc(t("reporter.situation.queued"))}` : ""}</div>
        <button type="button" class="btn btn-secondary btn-block" data-situation="${esc(i.id)}" ${command("POST /incidents/{incident_id}/situation")}>${esc(t("reporter.situation.update"))}</button>
      </li>`;
    }).join("");
  }

  openSituation(id) {
    const inc = (this.openItems ?? []).find((i) => i.id === id);
    if (!inc) return;
    const form = $("#situation-form");
    form.dataset.id = id;
    $("#situation-ref").textContent = inc.title;
    $("#situation-fields").innerHTML = SITUATION_FIELDS.map((k) => `<label class="measure"><span>${esc(label("situation", k))}</span>
      <input type="number" inputmode="numeric" min="0" max="1000000" step="1" name="${esc(k)}" value="${esc(inc.situation?.[k] ?? "")}"></label>`).join("")
      + `<label class="measure wide"><span>${esc(t("reporter.situation.notes"))}</span><textarea name="notes" rows="3" maxlength="4000"></textarea></label>`;
    $("#situation-error").hidden = true;
    $("#situation-sheet").showModal();
    $("#situation-fields input")?.focus();
  }

  submitSituation(e) {
    e.preventDefault();
    const form = $("#situation-form");
    const inc = (this.openItems ?? []).find((i) => i.id === form.dataset.id);
    if (!inc) return;
    const err = $("#situation-error");
    const bad = [...form.querySelectorAll("input")].find((el) => !el.checkValidity());
    if (bad) {
      err.hidden = false;
      err.textContent = `${bad.closest("label").querySelector("span").textContent}：${bad.validationMessage}`;
      bad.focus();
      return;
    }
    const f = new FormData(form);
    const body = {};
    for (const k of SITUATION_FIELDS) {
      const v = String(f.get(k) ?? "").trim();
      if (v !== "" && Number(v) !== (inc.situation?.[k] ?? null)) body[k] = Number(v);
    }
    const notes = String(f.get("notes") ?? "").trim();
    if (!Object.keys(body).length && !notes) {
      err.hidden = false;
      err.textContent = t("reporter.situation.nothing");
      return;
    }
    if (notes) body.notes = notes;
    this.outbox.enqueue({ path: `/incidents/${inc.id}/situation`, body, kind: "incident-situation", id: inc.id, action: "situation",
      meta: { title: inc.title } });
    $("#situation-sheet").close();
    this.renderOpen();
    this.toast(navigator.onLine === false ? t("reporter.incident.queued") : t("reporter.situation.sending"));
  }

  /** The outbox settled one of our taps: an update sent reads the list again (its figures are the incident's now). */
  settled(item, outcome) {
    if (item.kind !== "incident-situation") return;
    if (outcome.ok) this.toast(t("reporter.situation.sent", { title: item.meta?.title ?? "" }));
    this.loadOpen(outcome.answer?.position ?? 0);
  }

  open() {
    const form = $("#incident-form");
    form.reset();
    $("#incident-error").hidden = true;
    $("#incident-category").innerHTML = CATEGORIES.map((c) => `<option value="${esc(c)}">${esc(label("category", c))}</option>`).join("");
    this.renderSubtypes();
    $("#incident-levels").innerHTML = LEVELS.map((l) => `<label class="lv-choice lv-${esc(l)}"><input type="radio" name="level" value="${esc(l)}"${l === "IV" ? " checked" : ""}>
      <span>${esc(label("levelShort", l))}</span></label>`).join("");
    const now = Date.now();
    $("#incident-when").value = toLocalInput(now);
    $("#incident-when").max = toLocalInput(now);
    $("#incident-place").textContent = this.unit.name;
    $("#incident-sheet").showModal();
    $("#incident-title").focus();
  }

  renderSubtypes() {
    const category = $("#incident-category").value;
    $("#incident-subtype").innerHTML = (SUBTYPES[category] || []).map((s) => `<option value="${esc(s)}">${esc(label("subtype", s))}</option>`).join("");
  }

  submit(e) {
    e.preventDefault();
    const form = $("#incident-form");
    const err = $("#incident-error");
    if (!form.reportValidity()) return;
    const f = new FormData(form);
    const occurred = fromLocalInput(String(f.get("occurred_at") || ""));
    if (!occurred || Date.parse(occurred) > Date.now() + 60_000) {
      err.hidden = false;
      err.textContent = t("reporter.incident.badTime");
      return;
    }
    const body = {
      category: f.get("category"), subtype: f.get("subtype"), level: f.get("level") || "IV",
      title: String(f.get("title") || "").trim(), description: String(f.get("description") || "").trim(),
      unit_code: this.unit.code, address: String(f.get("address") || "").trim(),
      occurred_at: occurred, source: `${label("role", "reporter")} ${this.reporterName || ""}`.trim(),
    };
    this.outbox.enqueue({ path: "/incidents", body, kind: "incident", id: null, action: "report", meta: { title: body.title } });
    $("#incident-sheet").close();
    this.toast(navigator.onLine === false ? t("reporter.incident.queued") : t("reporter.incident.sending", { time: fmtHM(new Date().toISOString()) }));
  }
}
