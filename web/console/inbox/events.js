// The server's events (product.md §6) turned into room transitions and presence changes, then
// one render. Each handler reads the payload, asks the room store to move, and decides what to
// tell the staff member (notifications, toasts, thread notes). No DOM here.

import { staffName, visitorName, toMs } from "/shared/format.js";
import { asMessage } from "/shared/ws.js";
import { Status } from "/console/inbox/rooms.js";
import { announce } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";
import { previewText } from "/console/inbox/thread.js";

const TYPING_SHOW_MS = 8000;

/** One note per takeover, whichever of the ack and the events arrives first. */
export function takeoverNote(inbox, r, staff, prev = []) {
  if (r.lastTakeover === staff.id) return;
  r.lastTakeover = staff.id;
  const me = inbox.me;
  const who = staff.id === me.id ? "You" : staffName(staff);
  const from = prev.filter((p) => p.id !== staff.id).map((p) => (p.id === me.id ? "you" : staffName(p)));
  inbox.store.addNote(r, `${who} took over the chat${from.length ? ` from ${from.join(", ")}` : ""}`);
}

export function bindServerEvents(inbox) {
  const { socket: s, store, presence, me } = inbox;
  const render = () => inbox.render();
  const isMe = (st) => !!st && st.id === me.id;
  /** The room of an event that names it by `visitor` or only by `chat_id`. */
  const roomOf = (d) => (d.visitor ? store.room(d.visitor) : store.byChatId(d.chat_id));

  // ---- connect: the whole truth ----------------------------------------------------------------

  s.on("staff_init", (d) => {
    d = d || {};
    // staff_init comes again after every reconnect: rebuild the lists from it.
    const wasMine = new Set(store.all().filter((r) => store.isMine(r)).map((r) => r.id));
    presence.reset(d.online_users, d.online_visitors);
    inbox.availability.render();
    const listed = new Set();
    for (const c of d.unclaimed_chats || []) {
      const r = store.room(c.visitor || c);
      if (!r) continue;
      listed.add(r.id);
      store.queued(r);
      store.addMessages(r, c.contents);
      r.queuedAt = r.queuedAt || store.firstAt(r) || Date.now();
    }
    for (const v of d.offline_unclaimed_chats || []) {
      const r = store.room(v);
      if (!r) continue;
      listed.add(r.id);
      store.offline(r);
      r.queuedAt = r.queuedAt || toMs(v.created_at);
      if (!r.list.items.length) inbox.loadHistory(r);
    }
    store.flaggedOrder = [];
    for (const v of d.flagged_chats || []) {
      const r = store.room(v);
      if (r && !store.flaggedOrder.includes(r.id)) store.flaggedOrder.push(r.id);
    }
    // Beyond the seed: the chats I serve (a reloaded console gets them back)...
    const serving = new Set();
    const resume = [];
    for (const c of d.serving_chats || []) {
      const r = store.room(c.visitor || c);
      if (!r) continue;
      serving.add(r.id);
      const known = store.isMine(r) && r.list.maxSeq() > 0;
      store.becomeMine(r);
      if (known) { resume.push(r); continue; } // a reconnect: ask for what I missed (sync)
      if ((c.contents || []).some((m) => m && m.type_id === 0)) r.notes = [];
      store.addMessages(r, c.contents);
      if (!r.list.items.length) inbox.loadHistory(r);
    }
    // ...and, for supervisors and admins, every claimed chat with its serving staff.
    const claimed = new Set(serving);
    for (const v of d.claimed_chats || []) {
      const r = store.room(v);
      if (!r || serving.has(r.id)) continue;
      claimed.add(r.id);
      if (v.staff && v.staff.id && !r.serving.has(v.staff.id)) store.claimedBy(r, v.staff);
      else store.stillServed(r);
    }
    // What I knew before a reconnect and the server no longer lists has ended meanwhile.
    for (const r of store.all()) {
      if (wasMine.has(r.id) && !serving.has(r.id)) {
        store.ended(r, "This chat ended while you were disconnected.");
      } else if (!store.isMine(r) && !listed.has(r.id) && !claimed.has(r.id)) {
        store.unlisted(r);
      }
    }
    // A chat I watch (served by colleagues) catches up too.
    const open = inbox.current();
    if (open && !serving.has(open.id) && store.othersServe(open) && open.list.maxSeq() > 0) resume.push(open);
    render();
    inbox.sessionReady(resume);
  });

  // ---- resume (issue 12): what a chat missed, after the last sequence_num this console saw ------

  s.on("messages_since", (d) => {
    if (!d || !d.chat_id) return;
    const r = store.byChatId(d.chat_id);
    if (!r) return;
    const before = r.list.maxSeq();
    if (store.addMessages(r, d.messages) === 0) { inbox.renderThread(); return; }
    // A stored system message ("Pia joined the chat") replaces the note made from the live event.
    const said = new Set((d.messages || []).filter((m) => m && m.type_id === 0).map((m) => inbox.thread.systemText(m)));
    if (said.size) r.notes = r.notes.filter((n) => !said.has(n.text));
    // What the visitor wrote while I was away counts as unread, as if it had come live.
    const missed = (d.messages || []).filter((m) => m && m.type_id === 1 && m.sender == null && m.sequence_num > before);
    if (missed.length && store.isMine(r) && (inbox.selected !== r.id || document.hidden)) {
      r.unread += missed.length;
      inbox.notify("message", visitorName(r.info), previewText(missed[missed.length - 1]), r.id);
    }
    render();
  });

  // ---- presence --------------------------------------------------------------------------------

  s.on("staff_goes_online", (d) => { if (d && d.staff) { presence.staffOnline(d.staff); inbox.renderPeople(); } });
  s.on("staff_availability_changed", (d) => {
    if (!d || !d.staff) return;
    presence.setAvailability(d.staff, d.status, d);
    inbox.availability.render();
    render();
  });
  s.on("staff_goes_offline", (d) => {
    if (!d || !d.staff) return;
    presence.staffOffline(d.staff.id);
    inbox.renderPeople();
  });
  s.on("visitor_goes_online", (d) => {
    const v = d && d.visitor;
    if (!v) return;
    presence.visitorOnline(v);
    if (store.get(v.visitor_id || v.id)) store.room(v);
    render();
  });
  // While a party's reconnect grace runs, the others see it is away, not gone (issue 12).
  s.on("visitor_away", (d) => away(d && d.visitor, true));
  s.on("visitor_back", (d) => away(d && d.visitor, false));
  function away(v, isAway) {
    const id = v && (typeof v === "string" ? v : v.visitor_id || v.id);
    if (!id) return;
    presence.setVisitorAway(id, isAway);
    const r = store.get(id);
    if (r && inbox.selected === id && !store.isEnded(r)) {
      announce(isAway ? `${visitorName(r.info)} is offline. The chat stays open.` : `${visitorName(r.info)} is back.`);
    }
    render();
  }
  s.on("staff_away", (d) => staffAway(d && d.staff, true));
  s.on("staff_back", (d) => staffAway(d && d.staff, false));
  function staffAway(st, isAway) {
    if (!st || !st.id || isMe(st)) return;
    presence.remember(st);
    presence.setStaffAway(st.id, isAway);
    render();
  }
  s.on("visitor_goes_offline", (d) => {
    const v = d && d.visitor;
    if (!v) return;
    presence.visitorOffline(v.id);
    render();
  });

  // ---- the queues ------------------------------------------------------------------------------

  s.on("append_unclaimed_chats", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    const wasQueued = r.status === Status.QUEUED;
    store.queued(r);
    store.addMessages(r, d.contents);
    r.queuedAt = store.firstAt(r) || Date.now();
    r.lastAt = Math.max(r.lastAt, r.queuedAt);
    if (!wasQueued) {
      const last = r.list.last;
      inbox.notify("chat", `New chat from ${visitorName(r.info)}`, last ? previewText(last) : "", r.id);
    }
    render();
  });
  s.on("visitor_unclaimed_msg", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    store.queuedMessage(r);
    store.addMessages(r, [d.content]);
    render();
  });
  s.on("unclaimed_chat_to_offline", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    store.offline(r);
    render();
  });
  s.on("remove_visitor_offline_chat", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    store.leftOffline(r);
    render();
  });
  s.on("staff_claim_chat", (d) => {
    if (!d) return;
    const r = store.room(d.visitor);
    if (r && d.staff) { store.claimedBy(r, d.staff); presence.addChats(d.staff.id, 1); }
    else if (r) store.leftQueue(r);
    const next = d.next_offline_unclaimed_visitor;
    if (next) {
      const n = store.room(next);
      if (n && !store.isMine(n) && !n.serving.size) store.offline(n);
    }
    render();
  });

  // ---- messages and typing ---------------------------------------------------------------------

  s.on("visitor_send", (d) => visitorMessage(d));
  s.on("new_visitor_msg_for_supervisor", (d) => visitorMessage(d));
  s.on("staff_send", (d) => staffMessage(d));
  s.on("new_staff_msg_for_supervisor", (d) => staffMessage(d));
  s.on("user_typing_receive", (d) => typing(d, true));
  s.on("user_stop_typing_receive", (d) => typing(d, false));

  function visitorMessage(d) {
    const r = store.room(d && d.visitor);
    if (!r || !d.content) return;
    const msg = asMessage(d.content, null);
    if (store.addMessages(r, [msg]) === 0) return;
    r.typing = null;
    if (inbox.selected === r.id) announce(`${visitorName(r.info)} says: ${previewText(msg)}`);
    if (store.isMine(r) && (inbox.selected !== r.id || document.hidden)) {
      r.unread += 1;
      inbox.notify("message", visitorName(r.info), previewText(msg), r.id);
    }
    render();
  }

  function staffMessage(d) {
    if (!d || !d.content) return;
    const msg = asMessage(d.content, d.staff ? d.staff.id : null);
    const id = (d.visitor && (d.visitor.visitor_id || d.visitor.id)) || store.byChat.get(msg.chat_id);
    const r = id ? store.room(d.visitor || id) : null;
    if (!r) return;
    if (d.staff && !r.serving.has(d.staff.id) && !store.isEnded(r)) store.serve(r, d.staff);
    if (d.staff) presence.remember(d.staff);
    if (store.addMessages(r, [msg]) === 0) return;
    if (r.typing && r.typing.staff) r.typing = null;
    if (inbox.selected === r.id && d.staff && !isMe(d.staff)) announce(`${staffName(d.staff)} says: ${previewText(msg)}`);
    if (store.isMine(r) && d.staff && !isMe(d.staff) && (inbox.selected !== r.id || document.hidden)) r.unread += 1;
    render();
  }

  function typing(d, on) {
    if (!d || !d.visitor) return;
    const r = store.get(d.visitor.visitor_id || d.visitor.id);
    if (!r || isMe(d.staff)) return;
    clearTimeout(r.typingTimer);
    r.typing = on ? { name: d.staff ? staffName(d.staff) : visitorName(r.info) } : null;
    if (on) r.typingTimer = setTimeout(() => { r.typing = null; inbox.renderTyping(); }, TYPING_SHOW_MS);
    inbox.renderTyping();
  }

  // ---- the end of a chat -----------------------------------------------------------------------

  s.on("visitor_leave_queue", (d) => {
    const r = store.room(d && (d.user || d.visitor));
    if (!r) return;
    if (store.isMine(r) || r.serving.size) store.ended(r, `${visitorName(r.info)} left the chat.`);
    else store.leftQueue(r);
    render();
  });
  s.on("visitor_leave_chat_for_supervisor", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    if (!store.isEnded(r)) store.ended(r, `${visitorName(r.info)} left the chat.`);
    render();
  });
  s.on("staff_leave_chat_for_supervisor", (d) => {
    const r = store.room(d && d.visitor);
    if (!r || !d.staff) return;
    store.unserve(r, d.staff.id);
    store.addNote(r, `${staffName(d.staff)} left the chat`);
    if (r.serving.size === 0 && !store.isEnded(r)) store.ended(r, "The chat has ended.");
    render();
  });

  // ---- supervision -----------------------------------------------------------------------------

  s.on("staff_being_taken_over_chat", (d) => {
    const r = store.room(d && d.visitor);
    if (!r || !d.staff) return;
    const prev = [...r.serving.values()];
    store.serveOnly(r, d.staff);
    if (isMe(d.staff)) { store.becomeMine(r); render(); return; }
    if (store.isMine(r)) {
      store.takenOver(r, `${staffName(d.staff)} took over this chat. You can no longer reply.`);
      inbox.toast(`${staffName(d.staff)} took over your chat with ${visitorName(r.info)}.`);
    }
    takeoverNote(inbox, r, d.staff, prev);
    render();
  });
  s.on("staff_take_over_chat", (d) => {
    const r = store.room(d && d.visitor);
    if (!r || !d.staff) return;
    if (r.status !== Status.TAKEN_OVER) takeoverNote(inbox, r, d.staff);
    store.serveOnly(r, d.staff);
    if (isMe(d.staff)) store.becomeMine(r);
    render();
  });
  s.on("agent_new_chat", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    if (d.staff) store.claimedBy(r, d.staff);
    else store.leftQueue(r);
    store.addMessages(r, d.contents);
    render();
  });
  s.on("staff_being_added_to_chat", (d) => {
    if (!d || !d.staff) return;
    const r = roomOf(d);
    if (!r) return;
    store.serve(r, d.staff);
    store.addNote(r, `${staffName(d.staff)} joined the chat`);
    if (isMe(d.staff)) {
      store.becomeMine(r);
      // Messages sent while I was not in the room never reached me: fetch them.
      r.historyLoaded = false;
      inbox.loadHistory(r);
      inbox.notify("chat", `You were added to a chat with ${visitorName(r.info)}`, "", r.id);
    }
    render();
  });
  s.on("staff_being_removed_from_chat", (d) => {
    if (!d || !d.staff) return;
    const r = roomOf(d);
    if (!r) return;
    if (isMe(d.staff) && store.isMine(r)) store.removedMe(r, "You were removed from this chat.");
    else store.unserve(r, d.staff.id);
    store.addNote(r, `${staffName(d.staff)} was removed from the chat`);
    render();
  });
  // ---- routing and transfers (issue 13) -------------------------------------------------------

  /** A chat that became mine without my asking: in My chats, opened unless I am writing elsewhere. */
  function arrived(r, contents) {
    store.becomeMine(r);
    if ((contents || []).some((m) => m && m.type_id === 0)) r.notes = [];
    store.addMessages(r, contents);
    if (!r.list.items.length) inbox.loadHistory(r);
    const cur = inbox.current();
    const busy = cur && cur !== r && store.isMine(cur) && inbox.composer.input.value.trim();
    if (!busy) inbox.select(r.id);
  }

  s.on("chat_assigned", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    r.routed = { kind: "assigned" };
    arrived(r, d.contents);
    const name = visitorName(r.info);
    inbox.toast(t("assigned.toast", { name }));
    inbox.notify("chat", t("assigned.notify", { name }), "", r.id);
    render();
  });
  s.on("chat_unassigned", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    const wasMine = store.isMine(r);
    store.unassigned(r);
    r.routed = null;
    if (wasMine) {
      const name = visitorName(r.info);
      const key = d.reason === "timeout" ? "unassigned.toast" : d.reason === "declined" ? "declined.toast" : "unassigned.toast_other";
      inbox.toast(t(key, { name }));
    }
    render();
  });
  s.on("chat_transferred_to_you", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    const from = d.from && d.from.id ? d.from : null;
    if (from) {
      presence.remember(from);
      // They no longer serve it (the room object may still name them).
      r.serving.delete(from.id);
      presence.addChats(from.id, -1);
    }
    r.routed = { kind: "transfer", from, note: typeof d.note === "string" && d.note.trim() ? d.note : null };
    arrived(r, d.contents);
    const name = visitorName(r.info);
    const text = t("transfer.to_you", { from: from ? staffName(from) : t("sys.someone"), name });
    inbox.toast(text);
    inbox.notify("chat", text, r.routed.note || "", r.id);
    announce(text);
    render();
  });
  s.on("chat_transferred", (d) => {
    const r = store.room(d && d.visitor);
    if (!r || !d.to || !d.to.id) return;
    const fromId = d.from && d.from.id;
    const wasMine = store.isMine(r);
    store.transferred(r, fromId, d.to);
    presence.remember(d.to);
    if (d.from) presence.remember(d.from);
    presence.addChats(d.to.id, 1);
    if (fromId) presence.addChats(fromId, -1);
    const name = visitorName(r.info);
    const from = d.from ? staffName(d.from) : t("sys.someone");
    const note = t("sys.transfer", { from, to: staffName(d.to) });
    if (!r.notes.some((n) => n.text === note)) store.addNote(r, note);
    if (wasMine && !store.isMine(r)) {
      inbox.toast(t("transfer.gone", { from, name, to: staffName(d.to) }));
      if (inbox.selected === r.id) inbox.select(null);
    }
    render();
  });
  s.on("visitor_updated", (d) => {
    const v = d && d.visitor;
    if (!v) return;
    store.room(v);
    render();
  });

  s.on("chat_has_changed_priority_for_supervisor", (d) => {
    const r = store.room(d && d.visitor);
    if (!r) return;
    store.setFlag(r, (d.visitor && d.visitor.severity_level) || 0);
    render();
  });
}
