// The "接收通知" button of the phone pages (field, reporter, inspector): registers the page's service worker
// (ui/sw.js), subscribes with the server's public VAPID key (GET /push/key) and saves the subscription for
// this account and device (POST /push/subscriptions). The notifier then pushes dispatches, warnings and
// reminders to it. Words from the glossary (notifyText).
import { get, request } from "./api.js";
import { label, onLangChange } from "./i18n.js";

function keyBytes(base64url) {
  const s = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(s + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window && window.isSecureContext;
}

/** Wire `button` to subscribe this device; `page` is field | reporter | inspect (the worker's scope and shell). */
export function pushButton(button, page) {
  let state = "off";
  const render = () => {
    button.textContent = label("notifyText", state === "on" ? "enabled" : state === "unsupported" ? "unsupported"
      : state === "denied" ? "denied" : "enable");
    button.disabled = state !== "off";
    button.setAttribute("aria-pressed", state === "on" ? "true" : "false");
  };
  onLangChange(render);
  const registration = () => navigator.serviceWorker.register(page === "field" ? "sw.js" : `sw.js?page=${page}`, { scope: `./${page}` });
  if (!supported()) {
    state = "unsupported";
    render();
    return;
  }
  if (Notification.permission === "denied") state = "denied";
  render();
  registration()
    .then((reg) => reg.pushManager.getSubscription())
    .then((sub) => {
      if (sub && Notification.permission === "granted") {
        state = "on";
        render();
      }
    })
    .catch(() => {});
  button.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        state = "denied";
        render();
        return;
      }
      const key = await get("/push/key");
      if (!key.enabled) {
        state = "unsupported";
        render();
        return;
      }
      const reg = await registration();
      await navigator.serviceWorker.ready;
      const sub = (await reg.pushManager.getSubscription())
        || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key.public_key) }));
      const json = sub.toJSON();
      await request("POST", "/push/subscriptions", { endpoint: json.endpoint, keys: json.keys, device: navigator.userAgent.slice(0, 120) });
      state = "on";
    } catch {
      state = "off";
    }
    render();
  });
}
