// Times: the API speaks UTC ISO-8601; people read Asia/Shanghai.
import { getLang, label, t } from "./i18n.js";

export const TZ = "Asia/Shanghai";
const SHANGHAI_OFFSET_MIN = 8 * 60; // no daylight saving in China

/** Milliseconds since the epoch for an ISO string (microseconds are cut to milliseconds), or NaN. */
export function parseIso(iso) {
  if (!iso) return NaN;
  const s = String(iso).replace(/(\.\d{3})\d+/, "$1");
  return Date.parse(s);
}

const parts = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  weekday: "short", hourCycle: "h23",
});
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** {y, mo, d, h, mi, s, wd} of an instant, in Shanghai. */
export function shanghai(ms) {
  const out = {};
  for (const p of parts.formatToParts(new Date(ms))) out[p.type] = p.value;
  return { y: out.year, mo: out.month, d: out.day, h: out.hour, mi: out.minute, s: out.second, wd: WEEKDAYS.indexOf(out.weekday) };
}

export function fmtClock(ms) {
  const p = shanghai(ms);
  return { date: `${p.y}-${p.mo}-${p.d}`, time: `${p.h}:${p.mi}:${p.s}`, weekday: t("time.weekday", { d: label("weekday", p.wd) }) };
}

export function fmtTime(iso) {
  const ms = typeof iso === "number" ? iso : parseIso(iso);
  if (Number.isNaN(ms)) return "—";
  const p = shanghai(ms);
  return `${p.h}:${p.mi}:${p.s}`;
}

export function fmtHM(iso) {
  const ms = typeof iso === "number" ? iso : parseIso(iso);
  if (Number.isNaN(ms)) return "—";
  const p = shanghai(ms);
  const today = shanghai(Date.now());
  const sameDay = p.y === today.y && p.mo === today.mo && p.d === today.d;
  return sameDay ? `${p.h}:${p.mi}` : `${p.mo}-${p.d} ${p.h}:${p.mi}`;
}

export function fmtDateTime(iso) {
  const ms = typeof iso === "number" ? iso : parseIso(iso);
  if (Number.isNaN(ms)) return "—";
  const p = shanghai(ms);
  return `${p.y}-${p.mo}-${p.d} ${p.h}:${p.mi}:${p.s}`;
}

/** A duration for people: 12分钟 / 3小时05分 / 2天4小时 (or 12 min / 3 h 05 m / 2 d 4 h). */
export function fmtDuration(ms) {
  const zh = getLang() === "zh";
  const totalMin = Math.max(0, Math.floor(ms / 60000));
  const d = Math.floor(totalMin / 1440);
  const h = Math.floor((totalMin % 1440) / 60);
  const m = totalMin % 60;
  if (d > 0) return zh ? `${d}天${h}小时` : `${d} d ${h} h`;
  if (h > 0) return zh ? `${h}小时${String(m).padStart(2, "0")}分` : `${h} h ${String(m).padStart(2, "0")} m`;
  if (totalMin > 0) return zh ? `${m}分钟` : `${m} min`;
  return zh ? "不足1分钟" : "< 1 min";
}

/** A countdown: 04:59, 1:02:03; negative durations are shown as their absolute value. */
export function fmtCountdown(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The value for <input type="datetime-local"> showing an instant in Shanghai. */
export function toLocalInput(ms) {
  const p = shanghai(ms);
  return `${p.y}-${p.mo}-${p.d}T${p.h}:${p.mi}`;
}

/** "2026-07-20T08:30" typed in Shanghai time → an ISO string with its +08:00 offset. */
export function fromLocalInput(value) {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? "00"}+08:00`;
}

export { SHANGHAI_OFFSET_MIN };

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Escape text for HTML (content and attribute values). */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESC[c]);
}

export function fmtNumber(n) {
  return new Intl.NumberFormat(getLang() === "zh" ? "zh-CN" : "en-US").format(n ?? 0);
}

/** A list's total as the server gives it: exact, or a floor when it stopped counting ("10,000+"). */
export function fmtTotal(page) {
  return `${fmtNumber(page.total)}${page.total_exact === false ? "+" : ""}`;
}

/** Roman numerals for incident levels (Ⅰ is gravest), as printed on Chinese forms. */
export const LEVEL_NUM = Object.freeze({ I: "Ⅰ", II: "Ⅱ", III: "Ⅲ", IV: "Ⅳ" });
