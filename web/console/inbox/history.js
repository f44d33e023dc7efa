// A chat's stored messages over REST (`GET /api/v1/chats/{id}/messages`), page by page, for a
// chat opened after a reload, a chat joined midway, or an offline message; and the chat's record
// (its rating, read pointers and tags, issue 14).

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
    // The chat's record (issue 14): the visitor's rating, what each side read, its tags.
    const rec = await api(`/api/v1/chats/${encodeURIComponent(r.chatId)}`).catch(() => null);
    if (rec && rec.id === r.chatId) {
      if (rec.rating && typeof rec.rating.value === "string") r.rating = { rating: rec.rating.value, comment: rec.rating.comment || "" };
      if (rec.read) store.seen(r, rec.read.visitor, rec.read.staff);
      if (Array.isArray(rec.tags) && !Array.isArray(r.info.tags)) r.info.tags = rec.tags;
    }
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
