// The app shell's service worker. `cargo xtask pwa-finish` replaces the two placeholders at
// build time with the list of every built file and a hash of their contents, so each
// deployment has its own cache and a new deployment changes this file's bytes.
const PRECACHE = /*PRECACHE_FILES*/[];
const VERSION = "/*PRECACHE_VERSION*/";
const CACHE = `om-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  // All or nothing: a half-cached shell would serve a broken app offline.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("om-shell-") && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

// A new version waits until the user accepts the reload: never a mix of two versions.
self.addEventListener("message", (event) => {
  if (event.data === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    // Every route of the app is the same shell.
    event.respondWith(caches.match("/index.html", { cacheName: CACHE }).then((cached) => cached || fetch(request)));
    return;
  }
  event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((cached) => cached || fetch(request)));
});
