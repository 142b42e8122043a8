// The phone's outbox: every tap is written to localStorage — method, path, body and its own
// Idempotency-Key — BEFORE it is sent, and stays there until the server has answered for good.
// Taps are sent one at a time, in the order they were made; a network failure, a timeout, a 5xx,
// 408 or 429 leaves the tap (and everything after it) in place and retries later with the SAME key,
// so a tap whose answer was lost on the way back is replayed by the server, never applied twice.
// Taps made offline wait for the `online` event (or the backoff timer) and survive a reload.
import { API, getToken, getUser, newKey } from "./api.js";

export const OUTBOX_KEY = "yingji.field.outbox";
const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
const REQUEST_TIMEOUT_MS = 20_000; // a weak network may never answer: give up and retry with the same key

/** Answers worth another try with the same key: nothing final was said about the command. */
export function retryable(status) {
  return status === 0 || status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * items: [{key, method, path, body, kind, id, action, target, meta, user, queued_at, attempts, last_error, last_try_at}]
 * opts:
 *   onChange()                         the list or a sending state changed
 *   onSettled(item, outcome)           outcome: {ok:true, answer, replayed} | {ok:true, already:true} | {ok:false, status, problem}
 *   isReached(item) → Promise<bool>    after a 409 invalid_transition: is the tap's target state already there?
 *   onUnauthorized(problem)            a 401: the queue waits for the user to sign in again
 */
export class Outbox {
  constructor(opts = {}) {
    this.opts = opts;
    this.storage = opts.storage ?? globalThis.localStorage;
    this.fetch = opts.fetch ?? ((...a) => globalThis.fetch(...a));
    this.sendingKey = null;
    this.flushing = null;
    this.timer = null;
    this.retryAt = null;
    this.failures = 0;
    this.blocked = null; // "offline" | "network" | "server" | "auth" — why the head of the queue waits
    this.memory = null; // the outbox when localStorage refuses writes
    if (typeof window !== "undefined") {
      // Another tab of the same phone changed the outbox.
      window.addEventListener("storage", (e) => {
        if (e.key === OUTBOX_KEY) this.changed();
      });
    }
  }

  // -- storage -----------------------------------------------------------------------------
  load() {
    if (this.memory) return this.memory.map((it) => ({ ...it }));
    try {
      const items = JSON.parse(this.storage.getItem(OUTBOX_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  save(items) {
    try {
      this.storage.setItem(OUTBOX_KEY, JSON.stringify(items));
      this.memory = null;
    } catch {
      // Storage full or forbidden (private mode): keep the taps for as long as the page is open.
      this.memory = items.map((it) => ({ ...it }));
    }
  }

  /** False when the outbox could not be written to localStorage (it then lives only as long as the page). */
  get durable() {
    return !this.memory;
  }

  update(fn) {
    const items = this.load();
    const out = fn(items) ?? items;
    this.save(out);
    return out;
  }

  currentUser() {
    return getUser()?.username ?? null;
  }

  /** The signed-in user's queued taps, oldest first. */
  items() {
    const user = this.currentUser();
    return this.load().filter((it) => it.user === user);
  }

  pendingFor(kind, id) {
    return this.items().filter((it) => it.kind === kind && it.id === id);
  }

  isSending(item) {
    return item.key === this.sendingKey;
  }

  changed() {
    this.opts.onChange?.();
  }

  // -- queueing ----------------------------------------------------------------------------
  /**
   * Queue one tap and try to send it at once. A second tap of the same action on the same record
   * while the first is still queued is the same tap: it returns the queued one and adds nothing.
   */
  enqueue({ method = "POST", path, body = null, kind, id, action, target, meta = {} }) {
    const user = this.currentUser();
    let item = this.load().find((it) => it.user === user && it.kind === kind && it.id === id && it.action === action);
    if (!item) {
      item = {
        key: newKey(), method, path, body, kind, id, action, target, meta, user,
        queued_at: new Date().toISOString(), attempts: 0, last_error: null, last_try_at: null,
      };
      this.update((items) => {
        items.push(item);
      });
      this.changed();
    }
    this.kick();
    return item;
  }

  /** Drop a tap the user gave up on (never one being sent: its answer may still come). */
  discard(key) {
    if (key === this.sendingKey) return false;
    this.update((items) => items.filter((it) => it.key !== key));
    this.changed();
    return true;
  }

  // -- sending -----------------------------------------------------------------------------
  /** Send now, forgetting the backoff (the network is back, the user pressed retry, a socket reconnected). */
  nudge() {
    this.failures = 0;
    this.kick();
  }

  kick() {
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = null;
    this.flush();
  }

  /** Send every queued tap of the signed-in user, in order; one flush at a time. */
  flush() {
    if (!this.flushing) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  async drain() {
    for (;;) {
      const head = this.items()[0];
      if (!head) {
        this.blocked = null;
        this.failures = 0;
        this.changed();
        return;
      }
      if (!getToken()) {
        this.blocked = "auth";
        this.changed();
        return;
      }
      if (globalThis.navigator?.onLine === false) {
        this.wait("offline"); // the `online` event (or the timer, should the browser be wrong) resumes
        return;
      }
      const outcome = await this.sendOne(head);
      if (outcome === "stop") return;
    }
  }

  wait(why) {
    this.blocked = why;
    this.failures += 1;
    const base = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** (this.failures - 1));
    const delay = base / 2 + (Math.random() * base) / 2;
    clearTimeout(this.timer);
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retryAt = null;
      this.flush();
    }, delay);
    this.changed();
  }

  remove(key) {
    this.update((items) => items.filter((it) => it.key !== key));
  }

  /** Send one tap; "next" when it is settled for good (sent, replayed, already done or refused), "stop" to wait. */
  async sendOne(item) {
    this.sendingKey = item.key;
    this.update((items) => {
      const it = items.find((x) => x.key === item.key);
      if (it) {
        it.attempts += 1;
        it.last_try_at = new Date().toISOString();
      }
    });
    this.changed();
    let answer;
    try {
      answer = await this.request(item);
    } finally {
      this.sendingKey = null;
    }
    const { status, json } = answer;
    if (status >= 200 && status < 300) {
      this.remove(item.key);
      this.blocked = null;
      this.failures = 0;
      this.opts.onSettled?.(item, { ok: true, answer: json, replayed: answer.replayed });
      this.changed();
      return "next";
    }
    if (status === 401) {
      this.note(item, "unauthenticated");
      this.blocked = "auth";
      this.changed();
      this.opts.onUnauthorized?.(json);
      return "stop";
    }
    if (retryable(status)) {
      this.note(item, json?.code || (status === 0 ? "network" : `http_${status}`));
      this.wait(status === 0 ? "network" : "server");
      return "stop";
    }
    // A final 4xx. A 409 for a tap whose target state is already there (sent from another phone,
    // or by the command center, or our earlier attempt was applied under another key) is done.
    if (status === 409 && json?.code === "invalid_transition" && this.opts.isReached) {
      let reached;
      try {
        reached = await this.opts.isReached(item);
      } catch {
        this.note(item, "network");
        this.wait("network"); // cannot tell yet: keep the tap and ask again later
        return "stop";
      }
      if (reached) {
        this.remove(item.key);
        this.opts.onSettled?.(item, { ok: true, already: true });
        this.changed();
        return "next";
      }
    }
    this.remove(item.key);
    this.opts.onSettled?.(item, { ok: false, status, problem: json || {} });
    this.changed();
    return "next";
  }

  note(item, code) {
    this.update((items) => {
      const it = items.find((x) => x.key === item.key);
      if (it) it.last_error = code;
    });
  }

  async request(item) {
    const headers = { Accept: "application/json", "Idempotency-Key": item.key };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body;
    if (item.body !== null && item.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(item.body);
    }
    const abort = typeof AbortController === "function" ? new AbortController() : null;
    const timer = abort ? setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS) : null;
    let res;
    try {
      res = await this.fetch(API + item.path, { method: item.method, headers, body, cache: "no-store", signal: abort?.signal });
    } catch {
      clearTimeout(timer);
      return { status: 0, json: { code: "network" } };
    }
    let json = null;
    try {
      json = res.status === 204 ? null : await res.json();
    } catch {
      if (res.ok) {
        // The answer's body was cut off: the command may have been applied — the same key will tell.
        clearTimeout(timer);
        return { status: 0, json: { code: "network" } };
      }
      json = { code: `http_${res.status}`, detail: res.statusText };
    }
    clearTimeout(timer);
    return { status: res.status, json, replayed: res.headers.get("Idempotent-Replayed") === "true" };
  }
}
