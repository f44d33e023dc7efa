// A chat's stored messages over REST (`GET /api/v1/chats/{id}/messages`), page by page, for a
// chat opened after a reload, a chat joined midway, or an offline message.

import { api } from "/console/api.js";

const PAGE = 200;
const MAX_PAGES = 10;

/** Loads the room's history once (again after `r.historyLoaded = false`); `done()` re-renders. */
export async function loadHistory(store, r, done) {
  if (!r.chatId || r.historyLoaded) return;
  r.historyLoaded = true;
  const base = `/api/v1/chats/${encodeURIComponent(r.chatId)}/messages?limit=${PAGE}`;
  try {
    let url = base;
    let fromServer = [];
    for (let page = 0; page < MAX_PAGES && url; page++) {
      const data = await api(url);
      const results = (data && data.results) || [];
      fromServer = fromServer.concat(results);
      store.addMessages(r, results);
      const next = data && data.next;
      if (!next) break;
      url = nextUrl(next, base);
    }
    // The stored system messages ("join room", "take over room", "leave room") stand in for
    // the notes made from live events, at their true place in the conversation.
    if (fromServer.some((m) => m && m.type_id === 0)) r.notes = [];
  } catch (e) {
    r.historyLoaded = false;
    console.warn("frontdesk: history", e);
  }
  done();
}

/** A pagination `next`: a same-origin URL or path, or a bare cursor. */
function nextUrl(next, base) {
  if (typeof next !== "string") return null;
  if (next.startsWith("/")) return next;
  if (/^https?:/.test(next)) {
    const u = new URL(next);
    return u.origin === location.origin ? u.pathname + u.search : null;
  }
  return `${base}&cursor=${encodeURIComponent(next)}`;
}
