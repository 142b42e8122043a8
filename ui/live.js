// The live board stream: WebSocket /api/v1/board/live with hello / snapshot / delta / heartbeat,
// reconnecting by itself with exponential backoff and jitter, resuming after the last position seen.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const DEAD_AFTER_MS = 30_000; // no frame for this long: the connection is dead
const OFFLINE_AFTER_FAILURES = 4; // consecutive failed attempts before the indicator turns red
const CLOSE_TOO_SLOW = 4008;
const CLOSE_UNAUTHENTICATED = 4401; // the token no longer holds (expired, revoked, signed out): sign in again
const CLOSE_REVOKED = 4403; // a hello with a revoked token: sign in again, never retry it

export function liveUrl(path = "/api/v1/board/live") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/**
 * states: "connecting" (first attempt), "online", "reconnecting", "offline".
 * callbacks: getToken(), getPosition() → number|null, onSnapshot(frame), onDelta(frame), onHeartbeat(frame), onRelay(frame),
 *            onState(state, info), onAuthError(detail), onFailure(failures) (after each failed attempt)
 */
export class LiveConnection {
  constructor(opts) {
    this.opts = opts;
    this.url = opts.url ?? liveUrl();
    this.ws = null;
    this.state = "connecting";
    this.failures = 0;
    this.retryAt = null;
    this.timer = null;
    this.lastFrameAt = 0;
    this.stopped = true;
    this.gotFrame = false;
    this.watchdog = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    this.timer = null;
    this.watchdog = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, "bye");
      } catch {
        /* already closed */
      }
    }
  }

  /** Drop the current socket and connect again now (e.g. after signing in again). */
  restart() {
    this.stop();
    this.failures = 0;
    this.start();
  }

  setState(state) {
    this.state = state;
    this.opts.onState?.(state, { failures: this.failures, retryAt: this.retryAt });
  }

  open() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = null;
    this.gotFrame = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.failed();
      return;
    }
    this.ws = ws;
    this.lastFrameAt = Date.now();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      const after = this.opts.getPosition();
      ws.send(JSON.stringify({ type: "hello", token: this.opts.getToken() ?? "", after: typeof after === "number" ? after : null }));
      this.setState("online");
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!this.gotFrame) {
        this.gotFrame = true;
        this.failures = 0; // the server is really talking to us: reset the backoff
      }
      switch (frame.type) {
        case "snapshot":
          this.opts.onSnapshot?.(frame);
          break;
        case "delta":
          this.opts.onDelta?.(frame);
          break;
        case "heartbeat":
          this.opts.onHeartbeat?.(frame);
          break;
        case "relay":
          this.opts.onRelay?.(frame);
          break;
        case "error":
          if (frame.code === "unauthenticated") {
            this.authError(frame.detail);
          }
          break;
        default:
          break;
      }
      if (this.state !== "online") this.setState("online");
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (ev.code === CLOSE_UNAUTHENTICATED || ev.code === CLOSE_REVOKED) {
        this.authError(ev.reason);
        return;
      }
      if (ev.code === CLOSE_TOO_SLOW) {
        // Too slow: come back at once with after=<last position>.
        this.failures = 0;
        this.schedule(MIN_DELAY_MS * Math.random());
        this.setState("reconnecting");
        return;
      }
      this.failed();
    };
    ws.onerror = () => {
      /* onclose follows and decides */
    };
  }

  authError(detail) {
    this.stop();
    this.setState("offline");
    this.opts.onAuthError?.(detail);
  }

  failed() {
    if (this.stopped) return;
    this.failures += 1;
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** (this.failures - 1));
    const delay = base / 2 + (Math.random() * base) / 2; // jitter in [base/2, base]
    this.schedule(delay);
    this.setState(this.failures >= OFFLINE_AFTER_FAILURES || navigator.onLine === false ? "offline" : "reconnecting");
    this.opts.onFailure?.(this.failures);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => this.open(), delay);
  }

  checkAlive() {
    if (this.stopped || !this.ws) return;
    if (Date.now() - this.lastFrameAt > DEAD_AFTER_MS) {
      // Silent for too long: treat as dead, whatever the socket claims.
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000, "no frames");
      } catch {
        /* ignore */
      }
      this.failed();
    }
  }
}
