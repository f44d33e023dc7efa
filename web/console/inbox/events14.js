// The server's events of issue 14 turned into room changes, then one render: internal notes
// (`staff_note_send`), read receipts (`message_seen`), watching (`chat_watched`), tags
// (`chat_tags_changed`), canned replies (`canned_replies_changed`), ratings (`chat_rated`), the
// visitor's pages (`visitor_page_viewed`) and inactivity (`chat_timeout_warning`,
// `chat_closed_inactive`). `staff_init`'s additions are read here too. No DOM here.

import { asMessage } from "/shared/ws.js";
import { contentText, staffName, visitorName } from "/shared/format.js";
import { announce } from "/console/inbox/ui.js";
import { ct } from "/console/texts.js";

/** "2 min 30 s" / "45 s" for a countdown. */
export function secondsWords(s) {
  const n = Math.max(0, Math.round(Number(s) || 0));
  if (n < 60) return `${n} s`;
  const m = Math.floor(n / 60);
  const rest = n % 60;
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

export function ratingWords(rating) {
  return rating === "good" ? ct("rating.good") : rating === "bad" ? ct("rating.bad") : String(rating || "");
}

export function bindIssue14Events(inbox) {
  const { socket: s, store, me } = inbox;
  const render = () => inbox.render();
  const idOf = (v) => (v && typeof v === "object" ? v.visitor_id || v.id : v);

  s.on("staff_init", (d) => {
    d = d || {};
    if (Array.isArray(d.canned_replies)) inbox.canned = d.canned_replies;
    if (d.visitor_pages && typeof d.visitor_pages === "object") {
      inbox.visitorPages.clear();
      for (const [vid, v] of Object.entries(d.visitor_pages)) if (v) inbox.visitorPages.set(vid, { pages: v.pages || [], context: v.context || {} });
    }
    // A watch belongs to a connection: after a reconnect, ask again for the chats still watched.
    for (const r of store.all()) {
      if (r.watched && !store.isEnded(r)) inbox.watch.resume(r);
    }
    render();
  });

  s.on("staff_note_send", (d) => {
    if (!d || !d.content) return;
    const r = store.room(d.visitor);
    if (!r) return;
    if (d.staff) inbox.presence.remember(d.staff);
    const msg = asMessage(d.content, d.staff ? d.staff.id : null);
    if (store.addMessages(r, [msg]) === 0) return;
    if (inbox.selected === r.id) announce(`${ct("note.by", { name: staffName(d.staff) })}: ${contentText(msg.content)}`);
    render();
  });

  s.on("message_seen", (d) => {
    if (!d) return;
    const r = store.get(idOf(d.visitor));
    if (!r || typeof d.sequence_num !== "number") return;
    if (d.reader == null) store.seen(r, d.sequence_num, null);
    else store.seen(r, null, d.sequence_num); // a colleague (or my other tab) read it
    render();
  });

  s.on("chat_watched", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    r.watched = true;
    store.addMessages(r, d.contents);
    if (!r.list.items.length) inbox.loadHistory(r);
    if (inbox.selected !== r.id) inbox.select(r.id);
    render();
  });

  s.on("chat_tags_changed", (d) => {
    if (!d || !d.visitor) return;
    store.room(d.visitor);
    render();
  });

  s.on("canned_replies_changed", (d) => {
    if (!d || !Array.isArray(d.canned_replies)) return;
    inbox.canned = d.canned_replies;
    inbox.composer.picker.update();
    if (inbox.onCannedChanged) inbox.onCannedChanged(d.canned_replies);
  });

  s.on("chat_rated", (d) => {
    if (!d) return;
    const r = store.byChatId(d.chat_id) || store.get(idOf(d.visitor));
    const rating = { rating: d.rating, comment: typeof d.comment === "string" ? d.comment : "" };
    const name = r ? visitorName(r.info) : "A visitor";
    if (r && (!r.chatId || r.chatId === d.chat_id)) r.rating = rating;
    const words = ratingWords(d.rating) + (rating.comment ? ` “${rating.comment}”` : "");
    inbox.toast(ct("rating.toast", { name, rating: words }));
    if (r && inbox.selected === r.id) announce(ct("rating.line", { name, rating: words }));
    render();
  });

  s.on("visitor_page_viewed", (d) => {
    const vid = idOf(d && d.visitor);
    if (!vid) return;
    const prev = inbox.visitorPages.get(vid) || { pages: [], context: {} };
    const pages = Array.isArray(d.pages) ? d.pages : [...prev.pages, d.page].filter(Boolean).slice(-10);
    inbox.visitorPages.set(vid, { pages, context: d.context || prev.context || {} });
    if (inbox.selected === vid) inbox.details.render();
  });

  s.on("chat_timeout_warning", (d) => {
    const r = store.get(idOf(d && d.visitor));
    if (!r) return;
    const text = ct("inactive.warning", { time: secondsWords(d.seconds_left) });
    r.inactiveWarning = text;
    store.addNote(r, text);
    if (inbox.selected === r.id) announce(text);
    render();
  });

  s.on("chat_closed_inactive", (d) => {
    const r = store.get(idOf(d && d.visitor));
    if (!r) return;
    r.inactiveWarning = null;
    if (!store.isEnded(r)) store.ended(r, ct("inactive.closed"));
    if (inbox.selected === r.id) announce(ct("inactive.closed"));
    render();
  });

  // A chat message after a warning: the chat is active again, the warning goes from the banner.
  const active = (d) => { const r = store.get(idOf(d && d.visitor)); if (r) r.inactiveWarning = null; };
  s.on("visitor_send", active);
  s.on("staff_send", active);
  void me;
}
