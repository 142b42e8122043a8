// The "接收通知" button of the phone pages (field, reporter, inspector): registers the page's service worker
// (ui/sw.js), subscribes with the server's public VAPID key (GET /push/key) and saves the subscription for
// this account and device (POST /push/subscriptions). The notifier then pushes dispatches, warnings and
// reminders to it. Words from the glossary (notifyText).
import { get, request } from "./api.js";
import { label, onLangChange } from "./i18n.js";
import { known } from "./vocab.js";

function keyBytes(base64url) {
  const s = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(s + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window && window.isSecureContext;
}

const SUBSCRIBE = known("POST /push/subscriptions");
const UNSUBSCRIBE = known("DELETE /push/subscriptions/{subscription_id}");
const SAVED = "yingji.push.subscription"; // the id the server gave this device's subscription

/** Wire `button` to subscribe this device, and once subscribed to stop; `page` is field | reporter |
 * inspect (the worker's scope and shell). The button names the route it calls next (data-command);
 * where the browser cannot take pushes it stays, disabled, saying so. */
export function pushButton(button, page) {
  let state = "off";
  // Subscribing and stopping are two controls, each naming its route; the stop one is shown once this
  // device is subscribed (data-shown-when: the state a fresh browser cannot be in).
  const stopButton = document.createElement("button");
  stopButton.type = "button";
  stopButton.className = button.className;
  stopButton.dataset.command = UNSUBSCRIBE;
  stopButton.dataset.shownWhen = "this device is subscribed";
  button.after(stopButton);
  button.dataset.command = SUBSCRIBE;
  const render = () => {
    button.textContent = label("notifyText", state === "on" ? "enabled" : state === "unsupported" ? "unsupported"
      : state === "denied" ? "denied" : "enable");
    button.disabled = state !== "off";
    button.setAttribute("aria-pressed", state === "on" ? "true" : "false");
    stopButton.textContent = label("notifyText", "disable");
    stopButton.hidden = state !== "on";
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
  stopButton.addEventListener("click", stop);
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
      const saved = await request("POST", "/push/subscriptions", { endpoint: json.endpoint, keys: json.keys, device: navigator.userAgent.slice(0, 120) });
      if (saved && saved.id) localStorage.setItem(SAVED, saved.id);
      state = "on";
    } catch {
      state = "off";
    }
    render();
  });

  async function stop() {
    try {
      const id = localStorage.getItem(SAVED);
      if (id) await request("DELETE", `/push/subscriptions/${id}`);
      localStorage.removeItem(SAVED);
      const reg = await navigator.serviceWorker.getRegistration(`./${page}`);
      const sub = reg && (await reg.pushManager.getSubscription());
      if (sub) await sub.unsubscribe();
      state = "off";
    } catch {
      state = "on";
    }
    render();
  }
}
