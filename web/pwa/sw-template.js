// Bootsmith's service worker. The build fills in __PRECACHE__ (every file of the app) and
// __VERSION__ (a hash of that list). Precached files are served from the cache first; a new
// version installs beside the old one and takes over once every tab of the old one is closed.
const VERSION = __VERSION__;
const PRECACHE = __PRECACHE__;
const CACHE = `bootsmith-${VERSION}`;
/** Large files fetched on first use (kits) are kept in a cache of their own. */
const RUNTIME = 'bootsmith-runtime';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE.map((p) => new Request(p, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('bootsmith-') && key !== CACHE && key !== RUNTIME) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    event.respondWith(caches.match('/index.html', { ignoreVary: true }).then((hit) => hit ?? fetch(req)));
    return;
  }
  const runtime = url.pathname.startsWith('/kits/');
  // A kit's index and kit.json change when the set-up rebuilds the kits: network first, the
  // cached copy offline. Kit files are named by their sha256 and never change: cache first.
  if (runtime && !url.pathname.startsWith('/kits/blobs/')) {
    event.respondWith((async () => {
      try {
        const res = await fetch(req);
        if (res.ok) (await caches.open(RUNTIME)).put(req, res.clone());
        return res;
      } catch (err) {
        const hit = await caches.match(req, { ignoreVary: true });
        if (hit) return hit;
        throw err;
      }
    })());
    return;
  }
  event.respondWith((async () => {
    // vite preview and many servers send `Vary: Origin`; the module scripts' CORS requests carry an
    // Origin header that the precache requests did not, so the Vary check would miss every asset.
    const hit = await caches.match(req, { ignoreVary: true });
    if (hit) return hit;
    const res = await fetch(req);
    if (runtime && res.ok) (await caches.open(RUNTIME)).put(req, res.clone());
    return res;
  })());
});
