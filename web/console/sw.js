// The console's service worker (issue 15, Web Push for staff). Served at /console/sw.js, so its
// scope is the console. The server pushes `{title, body, chat_id, url}` (encrypted for this
// browser, RFC 8291) when a new chat waits or a visitor writes in one of your chats while no
// console tab of yours is connected; this shows it, and a click focuses an open console tab on
// that chat, or opens the console there. The notification's words come from the server.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/** The console URL to open: only a /console/ path (with its hash) on this origin. */
function consoleUrl(raw) {
  const fallback = new URL("/console/", self.location.origin);
  if (typeof raw !== "string") return fallback.href;
  try {
    const u = new URL(raw, self.location.origin);
    if (!u.pathname.startsWith("/console/")) return fallback.href;
    return new URL(u.pathname + u.hash, self.location.origin).href;
  } catch {
    return fallback.href;
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  const str = (v, max) => (typeof v === "string" ? v.slice(0, max) : "");
  const chatId = str(data.chat_id, 64);
  const options = {
    body: str(data.body, 300),
    data: { url: consoleUrl(data.url) },
  };
  if (chatId) {
    // One notification per chat: a newer message replaces the older one, and still alerts.
    options.tag = "chat-" + chatId;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(str(data.title, 120) || "Frontdesk", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = consoleUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = tabs.find((c) => {
      try { return new URL(c.url).pathname.startsWith("/console/"); } catch { return false; }
    });
    if (open) {
      const focused = await open.focus();
      // The console opens `#chat=ID` on hashchange; navigating changes only the hash.
      try { await (focused || open).navigate(target); } catch { /* not controlled: focus is enough */ }
      return;
    }
    await self.clients.openWindow(target);
  })());
});
