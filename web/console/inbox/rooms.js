// The room store: one record per visitor the console knows of, its messages, who serves it and
// its ONE status (the state machine below). Every status change goes through a transition here,
// named by what happened; nothing else assigns `room.status`. No DOM, no socket.
//
//   none → queued             append_unclaimed_chats, staff_init (and after a removal leaves nobody)
//   queued → offline          unclaimed_chat_to_offline: the visitor went away unserved
//   offline → none            remove_visitor_offline_chat (it comes back as queued right after)
//   queued | offline → mine   I claim it      → served  a colleague claims it   → none  it left the queue
//   none | served → mine      I take over, I am added     served → none  its last colleague left
//   mine → taken_over         a supervisor took it over   mine → removed  a supervisor removed me
//   mine → ended | served     I left (ended when nobody else serves it)
//   any but none → ended      the visitor left, the last staff left, a send was refused `chat_closed`
//   ended → none              a new chat of the same visitor begins (then queued)
//   any → mine                routing assigned it to me (chat_assigned), a colleague transferred it to me
//   mine → none               the assignment timed out (chat_unassigned; it is queued again right after)
//   mine → served             I transferred it, or a supervisor transferred it away from me
//
// `kept` is not a status: it pins a chat that was mine in "My chats" (ended, taken over, removed)
// until the staff member closes it; `reason` is the sentence shown for ended / taken_over /
// removed.

import { MessageList, asMessage } from "/shared/ws.js";
import { toMs } from "/shared/format.js";

export const Status = Object.freeze({
  NONE: "none",             // known (history, flags) but in no queue and served by nobody we know of
  QUEUED: "queued",         // waiting in the live queue
  OFFLINE: "offline",       // the visitor left a message while nobody was available
  MINE: "mine",             // I serve it (maybe with colleagues)
  SERVED: "served",         // colleagues serve it and I do not (supervisors watch it)
  TAKEN_OVER: "taken_over", // it was mine; a supervisor took it over
  REMOVED: "removed",       // it was mine; a supervisor removed me
  ENDED: "ended",           // the chat ended
});

/** Statuses in which colleagues (not I) may be serving the chat. */
const OTHERS_SERVE = new Set([Status.SERVED, Status.TAKEN_OVER, Status.REMOVED]);

export class RoomStore {
  constructor(me) {
    this.me = me;
    this.rooms = new Map();     // visitor id -> room
    this.byChat = new Map();    // chat id -> visitor id
    this.flaggedOrder = [];     // visitor ids, most recent first
  }

  get(id) { return id ? this.rooms.get(id) || null : null; }

  all() { return [...this.rooms.values()]; }

  /** The room for a chat id (events that carry only `chat_id`). */
  byChatId(chatId) { return chatId ? this.get(this.byChat.get(chatId)) : null; }

  /** The room for a room/visitor object from the server (or an id), merged with what we know. */
  room(obj) {
    if (!obj) return null;
    const id = typeof obj === "string" ? obj : (obj.visitor_id || obj.id);
    if (!id) return null;
    let r = this.rooms.get(id);
    if (!r) {
      r = { id, info: {}, chatId: null, list: new MessageList(), serving: new Map(),
        status: Status.NONE, reason: null, kept: false, notes: [],
        unread: 0, typing: null, typingTimer: null, lastAt: 0, queuedAt: 0, historyLoaded: false,
        // issue 14: read pointers of both sides, a supervisor's watch, the visitor's rating
        read: { visitor: 0, staff: 0 }, watched: false, rating: null, inactiveWarning: null };
      this.rooms.set(id, r);
    }
    if (typeof obj === "object") {
      r.info = { ...r.info, ...obj };
      if (obj.chat_id && obj.chat_id !== r.chatId) {
        if (r.chatId) {
          // A new chat of the same visitor: what we knew about the old one is history.
          r.list.clear(); r.notes = []; r.historyLoaded = false;
          r.read = { visitor: 0, staff: 0 }; r.watched = false; r.rating = null; r.inactiveWarning = null;
          if (r.status === Status.ENDED) this.settle(r, Status.NONE);
        }
        r.chatId = obj.chat_id;
        this.byChat.set(obj.chat_id, id);
      }
      if ("staff" in obj && obj.staff && obj.staff.id) this.serve(r, obj.staff);
      if (obj.read && typeof obj.read === "object") this.seen(r, obj.read.visitor, obj.read.staff);
    }
    return r;
  }

  /** The read pointers move forward only (`room.read`, `message_seen`, my own acked reads). */
  seen(r, visitor, staff) {
    if (typeof visitor === "number" && visitor > r.read.visitor) r.read.visitor = visitor;
    if (typeof staff === "number" && staff > r.read.staff) r.read.staff = staff;
  }

  /** Visitor messages (chat or file) after what staff have read: the list's unread badge. */
  unreadOf(r) {
    let n = 0;
    for (const m of r.list.items) {
      if (!m.local && m.sender == null && (m.type_id === 1 || m.type_id === 2) && typeof m.sequence_num === "number" && m.sequence_num > r.read.staff) n++;
    }
    return n;
  }

  /** The highest visitor message of the chat (what reading the chat marks as read). */
  lastVisitorSeq(r) {
    let s = 0;
    for (const m of r.list.items) if (!m.local && m.sender == null && typeof m.sequence_num === "number" && m.type_id !== 3) s = Math.max(s, m.sequence_num);
    return s;
  }

  /** Adds server messages of the room's current chat; returns how many were new. */
  addMessages(r, msgs) {
    let added = 0;
    for (const raw of msgs || []) {
      const m = asMessage(raw);
      if (!m) continue;
      if (m.chat_id && !r.chatId) { r.chatId = m.chat_id; this.byChat.set(m.chat_id, r.id); }
      if (m.chat_id && r.chatId && m.chat_id !== r.chatId) continue; // an older chat
      if (r.list.add(m)) { added++; r.lastAt = Math.max(r.lastAt, toMs(m.created_at)); }
    }
    // My uploads shown from the upload's answer give way to the stored message (issue 14).
    const stored = new Set(r.list.items.filter((m) => !m.local && m.type_id === 2 && m.content && m.content.attachment).map((m) => m.content.attachment.id));
    if (stored.size) r.list.items = r.list.items.filter((m) => !(m.local && m.type_id === 2 && stored.has(m.content.attachment.id)));
    this.keepRepliesLast(r);
    return added;
  }

  /**
   * My replies the server has not shown back yet sort after every stored message: the server
   * gives them a `sequence_num` after all it has, so that is where they will land (a reply
   * typed during an outage goes after what the visitor wrote meanwhile, as the visitor sees it).
   */
  keepRepliesLast(r) {
    const after = r.list.maxSeq();
    let moved = false;
    for (const it of r.list.items) {
      if (it.local && it.afterSeq <= after) { it.afterSeq = after + 0.5; moved = true; }
    }
    if (moved) r.list.sort();
  }

  // ---- questions -------------------------------------------------------------------------------

  isMine(r) { return r.status === Status.MINE; }
  isEnded(r) { return r.status === Status.ENDED; }
  isUnclaimed(r) { return r.status === Status.QUEUED || r.status === Status.OFFLINE; }
  /** Served by colleagues and not by me (the "Team chats" list, the watching banner). */
  othersServe(r) { return OTHERS_SERVE.has(r.status) && r.serving.size > 0; }
  /** Watched live: others serve it and it is not pinned in My chats. */
  isWatching(r) { return !r.kept && this.othersServe(r); }

  lists(isSupervisor) {
    const all = this.all();
    const byWait = (a, b) => (a.queuedAt || a.lastAt) - (b.queuedAt || b.lastAt);
    const byRecent = (a, b) => b.lastAt - a.lastAt;
    const mine = all.filter((r) => this.isMine(r)).sort(byRecent);
    return {
      mine,
      // My chats as shown: mine, then those that were mine and are pinned until closed.
      mineShown: [...mine, ...all.filter((r) => r.kept && !this.isMine(r))],
      queue: all.filter((r) => r.status === Status.QUEUED).sort(byWait),
      offline: all.filter((r) => r.status === Status.OFFLINE).sort(byWait),
      flagged: this.flaggedOrder.map((id) => this.rooms.get(id)).filter((r) => r && (r.info.severity_level || 0) > 0),
      live: isSupervisor ? all.filter((r) => this.othersServe(r)).sort(byRecent) : [],
    };
  }

  // ---- who serves ------------------------------------------------------------------------------
  // The serving map and the none ⇄ served statuses move together, here only.

  serve(r, staff) {
    r.serving.set(staff.id, staff);
    if (r.status === Status.NONE && !this.servedByMe(r)) r.status = Status.SERVED;
  }

  /** Exactly this staff member serves the room now (a claim, a takeover). */
  serveOnly(r, staff) {
    r.serving.clear();
    this.serve(r, staff);
  }

  unserve(r, staffId) {
    r.serving.delete(staffId);
    if (r.status === Status.SERVED && r.serving.size === 0) r.status = Status.NONE;
  }

  servedByMe(r) { return r.serving.has(this.me.id); }

  /** Moves to `status` unless the room is mine (a list event must not take my chat from me). */
  settle(r, status) {
    if (r.status === Status.MINE) return;
    r.status = status === Status.NONE && r.serving.size > 0 ? Status.SERVED : status;
  }

  // ---- transitions -----------------------------------------------------------------------------

  /** The chat waits in the live queue (append_unclaimed_chats, staff_init). */
  queued(r) {
    r.serving.clear();
    r.reason = null;
    if (r.status !== Status.MINE) r.status = Status.QUEUED;
  }

  /** A queued message: stays offline if it is offline, else it is (still) queued. */
  queuedMessage(r) {
    if (r.status !== Status.OFFLINE && r.status !== Status.MINE) r.status = Status.QUEUED;
  }

  /** The visitor went away with the chat unclaimed (or a listed offline chat came into view). */
  offline(r) {
    if (r.status === Status.MINE) return;
    r.serving.clear();
    r.reason = null;
    r.status = Status.OFFLINE;
  }

  /** The chat left the offline list (it is about to come back as queued). */
  leftOffline(r) {
    if (r.status === Status.OFFLINE) this.settle(r, Status.NONE);
  }

  /** The chat left both queues without being claimed. */
  leftQueue(r) {
    if (this.isUnclaimed(r)) this.settle(r, Status.NONE);
  }

  /** Someone claimed it or serves it now (staff_claim_chat, agent_new_chat, claimed_chats). */
  claimedBy(r, staff) {
    if (staff.id === this.me.id) { this.becomeMine(r); return; }
    if (r.status === Status.ENDED) r.reason = null;
    this.serveOnly(r, staff);
    if (r.status !== Status.MINE) r.status = Status.SERVED;
  }

  /** The server lists it as claimed by colleagues (staff_init's claimed_chats). */
  stillServed(r) {
    if (r.status === Status.MINE || r.status === Status.TAKEN_OVER || r.status === Status.REMOVED) return;
    if (r.serving.size === 0) return;
    r.status = Status.SERVED;
    r.reason = null;
  }

  becomeMine(r) {
    r.watched = false; // serving it ends a watch (the server stops it too)
    r.status = Status.MINE;
    r.reason = null;
    r.kept = false;
    r.serving.set(this.me.id, this.me);
  }

  /** My takeover was acked: I alone serve it now. */
  tookOver(r) {
    r.serving.clear();
    this.becomeMine(r);
  }

  /** Routing took back a chat assigned to me (chat_unassigned): it waits again. */
  unassigned(r) {
    r.serving.delete(this.me.id);
    if (r.status !== Status.MINE) return;
    r.status = r.serving.size ? Status.SERVED : Status.NONE;
    r.kept = false;
  }

  /** The chat went from one staff member to another (transfer_chat). */
  transferred(r, fromId, to) {
    if (to.id === this.me.id) { this.becomeMine(r); return; }
    if (fromId) r.serving.delete(fromId);
    r.serving.set(to.id, to);
    if (r.status === Status.MINE && !this.servedByMe(r)) { r.status = Status.SERVED; r.kept = false; }
    else if (r.status === Status.NONE || this.isUnclaimed(r)) r.status = Status.SERVED;
  }

  /** Not mine and no longer listed by the server after a reconnect: nobody serves it now. */
  unlisted(r) {
    if (r.status === Status.MINE) return;
    r.serving.clear();
    if (r.status === Status.QUEUED || r.status === Status.OFFLINE || r.status === Status.SERVED) r.status = Status.NONE;
  }

  /** A colleague took over the chat I served. */
  takenOver(r, reason) {
    r.status = Status.TAKEN_OVER;
    r.reason = reason;
    r.kept = true;
  }

  /** A supervisor removed me from the chat I served. */
  removedMe(r, reason) {
    r.serving.delete(this.me.id);
    r.status = Status.REMOVED;
    r.reason = reason;
    r.kept = true;
  }

  /** I left (staff_leave_room acked): the chat ends unless colleagues still serve it. */
  left(r) {
    r.serving.delete(this.me.id);
    r.kept = false;
    if (r.serving.size === 0) { r.status = Status.ENDED; r.reason = "You left the chat."; }
    else { r.status = Status.SERVED; r.reason = null; }
  }

  /** I removed myself or a colleague (remove_staff_from_chat acked). */
  removedStaff(r, staffId) {
    if (staffId === this.me.id) {
      r.serving.delete(staffId);
      if (r.status === Status.MINE) r.status = Status.SERVED;
    }
    this.unserve(r, staffId);
    // With nobody serving, the server puts the chat back in the queue.
    if (r.serving.size === 0) r.status = Status.QUEUED;
  }

  /** The chat ended; a chat that was mine stays in My chats with the reason. */
  ended(r, reason) {
    if (r.status === Status.MINE) r.kept = true;
    r.status = Status.ENDED;
    r.reason = reason;
    r.typing = null;
    r.serving.clear();
    r.watched = false;
  }

  /** The staff member closes a chat pinned in My chats. */
  unpin(r) { r.kept = false; }

  // ---- flags -----------------------------------------------------------------------------------

  setFlag(r, level) {
    r.info.severity_level = level;
    this.flaggedOrder = this.flaggedOrder.filter((id) => id !== r.id);
    if (level > 0) this.flaggedOrder.unshift(r.id);
  }

  // ---- notes (events shown in the thread that are not stored messages) --------------------------

  addNote(r, text) {
    r.notes.push({ key: this.noteKey(r), text });
  }

  /** A sort key after every message and note shown now. */
  noteKey(r) {
    let k = r.list.nextKey();
    for (const n of r.notes) k = Math.max(k, n.key + 0.001);
    return k;
  }

  /** When the first stored message of the chat was written (the queue's waiting time). */
  firstAt(r) {
    const f = r.list.items.find((m) => !m.local);
    return f ? toMs(f.created_at) : 0;
  }

  /** A staff object by id, from the rooms (the online list and a cache are the caller's). */
  servingStaff(id) {
    for (const r of this.rooms.values()) if (r.serving.has(id)) return r.serving.get(id);
    return null;
  }
}
