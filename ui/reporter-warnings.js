// The reporter's warnings tab (预警): warnings that target the village, its street or the district arrive
// live (the board's WebSocket, scoped to the account) with sound; one big 签收 button signs for the
// village's copy; a short form reports what was done (响应措施). Every tap goes through the phone's
// outbox (field-queue.js): written to localStorage with its own Idempotency-Key before it is sent,
// kept through a lost network or a reload, and sent once when the way to the server is open again.
import * as api from "./api.js";
import { BoardModel, receiptState, warningInForce, warningShown, warningShownStatus } from "./board-model.js";
import { Outbox } from "./field-queue.js";
import { esc, fmtDateTime, fmtHM } from "./format.js";
import { label, t } from "./i18n.js";
import { LiveConnection } from "./live.js";
import { RESPONSE_MEASURES, WARNING_LEVELS, command } from "./vocab.js";

const $ = (sel) => document.querySelector(sel);
const SEEN_KEY = "yingji.reporter.seenWarnings";

export class WarningsTab {
  constructor({ unitCode, toast, onNew }) {
    this.unitCode = unitCode;
    this.toast = toast;
    this.onNew = onNew;
    this.model = new BoardModel();
    this.live = null;
    this.audio = null;
    this.seen = this.loadSeen();
    this.first = true;
    this.outbox = new Outbox({
      onChange: () => this.render(),
      onSettled: (item, outcome) => this.settled(item, outcome),
      isReached: (item) => this.isReached(item),
      onUnauthorized: () => api.clearSession(),
    });
  }

  start() {
    for (const type of ["pointerdown", "touchstart", "keydown"]) window.addEventListener(type, () => this.unlockAudio(), { capture: true, passive: true });
    window.addEventListener("online", () => {
      this.live?.restart();
      this.outbox.nudge();
      this.render();
    });
    window.addEventListener("offline", () => this.render());
    $("#warning-cards").addEventListener("click", (e) => this.onClick(e));
    $("#respond-form").addEventListener("submit", (e) => this.onRespond(e));
    $("#respond-cancel").addEventListener("click", () => $("#respond").close());
    this.live = new LiveConnection({
      getToken: api.getToken,
      getPosition: () => this.model.position,
      onSnapshot: (f) => {
        this.model.replace(f.board, f.position);
        this.arrived(false);
      },
      onDelta: (f) => {
        if (this.model.applyDelta(f)) this.arrived(true);
      },
      onHeartbeat: (f) => this.model.advance(f.position),
      onState: () => this.render(),
      onAuthError: () => api.clearSession(),
    });
    this.live.start();
    this.outbox.flush();
    setInterval(() => this.render(), 15_000); // time left and expiry follow the clock
  }

  stop() {
    this.live?.stop();
  }

  loadSeen() {
    try {
      return new Set(JSON.parse(localStorage.getItem(SEEN_KEY) || "[]"));
    } catch {
      return new Set();
    }
  }

  /** The warnings this village must act on: in force and with a receipt of its own, highest level first. */
  warnings() {
    const now = Date.now();
    const receipts = new Map(this.model.list("warning_receipt").filter((r) => r.unit_code === this.unitCode).map((r) => [r.warning_id, r]));
    return this.model.list("warning").filter((w) => w.status !== "draft" && receipts.has(w.id) && warningShown(w, now))
      .map((w) => ({ w, r: receipts.get(w.id), live: warningInForce(w, now) }))
      .sort((a, b) => Number(b.live) - Number(a.live) || WARNING_LEVELS.indexOf(a.w.level) - WARNING_LEVELS.indexOf(b.w.level));
  }

  /** A warning not seen before on this phone: sound, vibration and a banner (once per warning); one that
   * arrives while the page is open also opens the tab (at sign-in the badge on the tab says it). */
  arrived(live) {
    // A warning raised to a higher level comes again (its receipt's revision): a new version to sign for.
    const key = (w, r) => `${w.id}:${r.revision ?? 1}`;
    const fresh = this.warnings().filter(({ w, r, live }) => live && !r.signed_at && !this.seen.has(key(w, r)));
    for (const { w, r } of fresh) this.seen.add(key(w, r));
    try {
      localStorage.setItem(SEEN_KEY, JSON.stringify([...this.seen].slice(-200)));
    } catch {
      /* private mode */
    }
    if (fresh.length) {
      this.beep();
      navigator.vibrate?.([300, 120, 300, 120, 300]);
      this.toast(t("reporter.warn.new", { headline: fresh[0].w.headline }));
      if (live) this.onNew?.(fresh[0].w);
    }
    this.render();
  }

  unlockAudio() {
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      this.audio ??= new AC();
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    } catch {
      /* no audio */
    }
  }

  /** A rising two-tone alarm from an oscillator: nothing to download on a weak network. */
  beep() {
    try {
      this.unlockAudio();
      const ctx = this.audio;
      if (!ctx || ctx.state !== "running") return;
      const t0 = ctx.currentTime + 0.02;
      for (let i = 0; i < 8; i++) {
        const start = t0 + i * 0.25;
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sawtooth";
        osc.frequency.value = i % 2 ? 660 : 990;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.22);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start);
        osc.stop(start + 0.23);
      }
    } catch {
      /* no audio */
    }
  }

  unsignedCount() {
    return this.warnings().filter(({ r, live }) => live && !r.signed_at).length;
  }

  onClick(e) {
    const btn = e.target.closest("[data-warn-action]");
    if (!btn) return;
    const id = btn.dataset.id;
    if (btn.dataset.warnAction === "sign") this.sign(id);
    else if (btn.dataset.warnAction === "respond") this.openRespond(id);
  }

  path(warningId, what) {
    return `/warnings/${encodeURIComponent(warningId)}/receipts/${encodeURIComponent(this.unitCode)}/${what}`;
  }

  sign(warningId) {
    navigator.vibrate?.(40);
    this.outbox.enqueue({ path: this.path(warningId, "acknowledge"), body: { note: "" }, kind: "warning", id: warningId, action: "acknowledge",
      target: "signed" });
    this.render();
  }

  openRespond(warningId) {
    const item = this.warnings().find(({ w }) => w.id === warningId);
    if (!item) return;
    $("#respond-form").dataset.id = warningId;
    $("#respond-fields").innerHTML = RESPONSE_MEASURES.map((m) => `<label class="measure"><span>${esc(label("responseMeasure", m))}</span>
      <input type="number" inputmode="numeric" min="0" max="1000000" step="1" name="${esc(m)}" value="${esc(item.r.measures?.[m] ?? "")}"></label>`).join("")
      + `<label class="measure wide"><span>${esc(t("reporter.warn.respondNote"))}</span><textarea name="note" rows="3" maxlength="2000">${esc(item.r.note ?? "")}</textarea></label>`;
    $("#respond-error").hidden = true;
    $("#respond").showModal();
  }

  onRespond(e) {
    e.preventDefault();
    const form = $("#respond-form");
    const f = new FormData(form);
    const measures = {};
    for (const m of RESPONSE_MEASURES) {
      const v = String(f.get(m) ?? "").trim();
      if (v !== "") {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) {
          $("#respond-error").hidden = false;
          $("#respond-error").textContent = `${label("responseMeasure", m)}: 0–1000000`;
          return;
        }
        measures[m] = n;
      }
    }
    const note = String(f.get("note") ?? "").trim();
    if (!Object.keys(measures).length && !note) {
      $("#respond-error").hidden = false;
      $("#respond-error").textContent = t("reporter.warn.respondTitle");
      return;
    }
    const id = form.dataset.id;
    // A second report while the first still waits replaces it in the outbox: the latest figures count.
    for (const it of this.outbox.pendingFor("warning-response", id)) this.outbox.discard(it.key);
    this.outbox.enqueue({ path: this.path(id, "response"), body: { measures, note }, kind: "warning-response", id, action: "respond" });
    $("#respond").close();
    this.toast(navigator.onLine === false ? t("reporter.warn.respondQueued") : t("reporter.submit"));
  }

  settled(item, outcome) {
    this.onSettled?.(item, outcome); // the incident form follows its own taps (更新灾情)
    if (outcome.ok) {
      if (item.action === "acknowledge") this.toast(t("toast.warningSigned"));
      if (item.kind === "incident") this.toast(t("reporter.incident.sent", { title: item.meta?.title ?? "" }));
    } else {
      const p = outcome.problem ?? {};
      this.toast(`${label("errorCode", p.code) || p.title || ""}${p.detail ? ` — ${p.detail}` : ""}`);
    }
    this.render();
  }

  /** After a 409 on 签收: is this village's copy signed already (from another phone, or an earlier try)? */
  async isReached(item) {
    if (item.action !== "acknowledge") return false;
    const page = await api.get("/warnings?status=issued&status=lifted&limit=1000");
    const w = page.items.find((x) => x.id === item.id);
    return !!w?.my_receipt?.signed_at;
  }

  render() {
    const box = $("#warning-cards");
    if (!box) return;
    const now = Date.now();
    const items = this.warnings();
    const pending = this.outbox.items();
    $("#warn-outbox").hidden = !pending.length;
    $("#warn-outbox").textContent = pending.length ? t("reporter.warn.pending", { n: pending.length }) : "";
    const n = this.unsignedCount();
    const badge = $("#tab-warnings-badge");
    badge.hidden = !n;
    badge.textContent = String(n);
    box.innerHTML = items.map(({ w, r, live }) => {
      const queued = this.outbox.pendingFor("warning", w.id).length > 0;
      const state = receiptState(r, now);
      const shown = warningShownStatus(w, now);
      let status;
      if (r.signed_at) status = t(r.late ? "reporter.warn.signedLate" : "reporter.warn.signedAt", { time: fmtHM(r.signed_at) });
      else if (queued) status = t("reporter.warn.queued");
      else if (!live) status = t("reporter.warn.closed");
      else status = t(state === "overdue" ? "reporter.warn.overdue" : "reporter.warn.deadline", { time: fmtHM(r.deadline) })
        + ((r.revision ?? 1) > 1 ? ` · ${t("reporter.warn.raised")}` : "");
      const measures = Object.entries(r.measures ?? {}).filter(([, v]) => v).map(([k, v]) => `${label("responseMeasure", k)} ${v}`).join("、");
      const respondQueued = this.outbox.pendingFor("warning-response", w.id).length > 0;
      return `<article class="warn-card wl-${esc(w.level)}${w.exercise ? " is-drill" : ""}" data-testid="warn-card-${esc(w.id)}" data-state="${esc(r.signed_at ? "signed" : queued ? "queued" : state)}">
        <div class="wc-top"><span class="wc-level">${esc(label("warningLevel", w.level))} · ${esc(label("warningGrade", w.level))}</span>
          ${w.exercise ? `<span class="wc-drill">${esc(label("exercise", "true"))}</span>` : ""}
          <span class="wc-status">${esc(label("warningStatus", shown))}</span></div>
        <h3 class="wc-headline">${esc(w.headline)}</h3>
        <div class="wc-meta">${esc(label("subtype", w.subtype))} · ${esc(t("warning.expiresAt", { time: fmtDateTime(w.expires) }))}</div>
        ${w.description ? `<p class="wc-text">${esc(w.description)}</p>` : ""}
        ${w.instruction ? `<p class="wc-text wc-instruction"><b>${esc(t("warning.instruction"))}：</b>${esc(w.instruction)}</p>` : ""}
        <div class="wc-receipt" data-testid="warn-status-${esc(w.id)}">${esc(status)}</div>
        ${!r.signed_at && !queued && live ? `<button type="button" class="btn btn-xl btn-block btn-sign" data-warn-action="sign" data-id="${esc(w.id)}" ${command("POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge")} data-testid="sign-${esc(w.id)}">${esc(t("reporter.warn.sign"))}</button>` : ""}
        ${(r.signed_at || queued) ? `<button type="button" class="btn btn-secondary btn-block" data-warn-action="respond" data-id="${esc(w.id)}" ${command("POST /warnings/{warning_id}/receipts/{unit_code}/response")} data-testid="respond-${esc(w.id)}">${esc(t("reporter.warn.respond"))}</button>` : ""}
        ${measures ? `<div class="wc-meta">${esc(t("reporter.warn.responded", { what: measures }))}</div>` : ""}
        ${respondQueued ? `<div class="wc-meta">${esc(t("reporter.warn.respondQueued"))}</div>` : ""}
      </article>`;
    }).join("") || `<p class="report-hint">${esc(t("reporter.warn.none"))}</p>`;
  }
}
