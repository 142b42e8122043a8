// The reporter's incident form (上报灾情事件): category, type, level, what and where in the village,
// when it happened. The report goes through the phone's outbox (field-queue.js) like every other
// tap: kept on the phone with its own Idempotency-Key before it is sent, sent once when the network
// is there, so a report made in a valley without signal reaches the desk when the phone does.
import { esc, fmtHM, fromLocalInput, toLocalInput } from "./format.js";
import { label, t } from "./i18n.js";
import { CATEGORIES, LEVELS, SUBTYPES } from "./vocab.js";

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
