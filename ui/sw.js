// Service worker of the field page (registered by field.js with scope /ui/field): keeps the page's
// own files so the page opens without a network, showing the last known data and the queued taps
// (both in localStorage). Network first, so a deployment reaches the phones at the next load; the
// cache answers only when the network fails or is too slow. The API (/api/...) is never touched:
// the outbox must see real network errors, and answers must never come from a cache.
// The inspector's phone (inspect.html, 双重预防) registers this worker as sw.js?page=inspect with its own shell and cache;
// the reporter's phone as sw.js?page=reporter for notifications only (it keeps no offline shell).
// Web Push (all three): a message from the notifier is shown with the notification's id as its tag, so a message
// resent after a lost answer replaces the one on screen instead of adding a second; a tap opens the page.
const PAGE_PARAM = new URL(self.location.href).searchParams.get("page");
const PAGE = PAGE_PARAM === "inspect" || PAGE_PARAM === "reporter" ? PAGE_PARAM : "field";
const CACHE = PAGE === "inspect" ? "yingji-inspect-v3" : PAGE === "reporter" ? "yingji-reporter-v1" : "yingji-field-v5"; // bump when SHELL changes, so phones drop the old copy
const SHELL = ["field.html", "field.css", "field.js", "field-queue.js", "api.js", "live.js", "i18n.js", "format.js", "board-model.js", "signin.js", "shell.js", "vocab.js", "notify.js"];
const INSPECT_SHELL = ["inspect.html", "inspect.css", "field.css", "inspect.js", "api.js", "live.js", "i18n.js", "format.js", "signin.js", "shell.js", "vocab.js", "notify.js"];
const PAGE_SHELL = PAGE === "inspect" ? INSPECT_SHELL : PAGE === "reporter" ? [] : SHELL;
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PAGE_SHELL.map((f) => new Request(f, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(`yingji-${PAGE}-`) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith("/ui/") || PAGE === "reporter") return;
  event.respondWith(networkFirst(req));
});

async function networkFirst(req) {
  const cache = await caches.open(CACHE);
  const fromNetwork = fetch(req, { cache: "no-store" }).then((res) => {
    if (res.ok) cache.put(req, res.clone()).catch(() => {});
    return res;
  });
  fromNetwork.catch(() => {}); // handled below; a late failure after the cache answered is no error
  const cached = () => cache.match(req, { ignoreSearch: true });
  try {
    // A weak network may hang: after a while the cached copy answers while the download goes on.
    const res = await Promise.race([
      fromNetwork,
      new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS)).then(async () => (await cached()) ?? fromNetwork),
    ]);
    return res;
  } catch {
    const hit = await cached();
    if (hit) return hit;
    return Response.error();
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "", {
      body: data.body || "",
      tag: data.id || undefined,
      renotify: false,
      requireInteraction: true,
      data: { url: new URL(`${PAGE}.html`, self.location.href).href },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || new URL(`${PAGE}.html`, self.location.href).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
      const open = list.find((c) => c.url.startsWith(url));
      return open ? open.focus() : self.clients.openWindow(url);
    }),
  );
});
