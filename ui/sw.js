// Service worker of the field page (registered by field.js with scope /ui/field): keeps the page's
// own files so the page opens without a network, showing the last known data and the queued taps
// (both in localStorage). Network first, so a deployment reaches the phones at the next load; the
// cache answers only when the network fails or is too slow. The API (/api/...) is never touched:
// the outbox must see real network errors, and answers must never come from a cache.
// The inspector's phone (inspect.html, 双重预防) registers this worker as sw.js?page=inspect with its own shell and cache.
const PAGE = new URL(self.location.href).searchParams.get("page") === "inspect" ? "inspect" : "field";
const CACHE = PAGE === "inspect" ? "yingji-inspect-v1" : "yingji-field-v4"; // bump when SHELL changes, so phones drop the old copy
const SHELL = ["field.html", "field.css", "field.js", "field-queue.js", "api.js", "live.js", "i18n.js", "format.js", "board-model.js", "signin.js", "shell.js", "vocab.js"];
const INSPECT_SHELL = ["inspect.html", "inspect.css", "field.css", "inspect.js", "api.js", "i18n.js", "format.js", "signin.js", "vocab.js"];
const PAGE_SHELL = PAGE === "inspect" ? INSPECT_SHELL : SHELL;
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
  if (url.origin !== self.location.origin || !url.pathname.startsWith("/ui/")) return;
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
