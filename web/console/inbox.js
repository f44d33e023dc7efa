// The live inbox: queue, my chats, flagged, team chats (supervisors), the chat view and the
// details panel. State is rebuilt from `staff_init` and kept current by the §6 events.

import { MessageList, asMessage } from "/shared/ws.js";
import { el, setChildren, formatTime, formatFull, formatAgo, formatWaiting, contentText, staffName, visitorName,
  roleName, initials, hueFor, richText, toMs, chime } from "/shared/format.js";
import { api } from "/console/api.js";

const TYPING_SEND_EVERY_MS = 4000;
const TYPING_IDLE_MS = 2500;
const TYPING_SHOW_MS = 8000;
const PRIORITY = { 0: "", 1: "Low", 2: "Medium", 3: "High" };

export class Inbox {
  constructor({ socket, me, notify, toast }) {
    this.socket = socket;
    this.me = me;
    this.isSupervisor = me.role_id === 1 || me.role_id === 2;
    this.notify = notify;       // (kind, title, body, roomId) => void
    this.toast = toast;
    this.rooms = new Map();     // visitor id -> room state
    this.byChat = new Map();    // chat id -> visitor id
    this.flaggedOrder = [];     // visitor ids, most recent first
    this.onlineStaff = new Map();
    this.onlineVisitors = new Map();
    this.selected = null;
    this.drafts = new Map();
    this.typingSentAt = 0;
    this.typingIdle = null;
    this.onChange = () => {};
    this.$ = (id) => document.getElementById(id);
    this.bindEvents();
    this.bindUi();
    setInterval(() => this.renderLists(), 30000);
  }

  // ---- room bookkeeping ------------------------------------------------------------------------

  /** The room state for a room/visitor object from the server, merged with what we know. */
  room(obj) {
    if (!obj) return null;
    const id = typeof obj === "string" ? obj : (obj.visitor_id || obj.id);
    if (!id) return null;
    let r = this.rooms.get(id);
    if (!r) {
      r = { id, info: {}, chatId: null, list: new MessageList(), serving: new Map(), inQueue: false,
        inOffline: false, mine: false, ended: null, unread: 0, typing: null, typingTimer: null,
        lastAt: 0, queuedAt: 0, historyLoaded: false };
      this.rooms.set(id, r);
    }
    if (typeof obj === "object") {
      r.info = { ...r.info, ...obj };
      if (obj.chat_id && obj.chat_id !== r.chatId) {
        if (r.chatId) { r.list.clear(); r.notes = []; r.historyLoaded = false; r.ended = null; }
        r.chatId = obj.chat_id;
        this.byChat.set(obj.chat_id, id);
      }
      if ("staff" in obj && obj.staff && obj.staff.id) r.serving.set(obj.staff.id, obj.staff);
    }
    return r;
  }

  addMessages(r, msgs) {
    let added = 0;
    for (const raw of msgs || []) {
      const m = asMessage(raw);
      if (!m) continue;
      if (m.chat_id && !r.chatId) { r.chatId = m.chat_id; this.byChat.set(m.chat_id, r.id); }
      if (m.chat_id && r.chatId && m.chat_id !== r.chatId) continue; // an older chat
      if (r.list.add(m)) { added++; r.lastAt = Math.max(r.lastAt, toMs(m.created_at)); }
    }
    return added;
  }

  lists() {
    const all = [...this.rooms.values()];
    const byWait = (a, b) => (a.queuedAt || a.lastAt) - (b.queuedAt || b.lastAt);
    const byRecent = (a, b) => b.lastAt - a.lastAt;
    return {
      mine: all.filter((r) => r.mine).sort(byRecent),
      queue: all.filter((r) => r.inQueue && !r.mine).sort(byWait),
      offline: all.filter((r) => r.inOffline && !r.inQueue && !r.mine).sort(byWait),
      flagged: this.flaggedOrder.map((id) => this.rooms.get(id)).filter((r) => r && (r.info.severity_level || 0) > 0),
      live: this.isSupervisor ? all.filter((r) => !r.mine && !r.ended && r.serving.size > 0).sort(byRecent) : [],
    };
  }

  setFlag(r, level) {
    r.info.severity_level = level;
    this.flaggedOrder = this.flaggedOrder.filter((id) => id !== r.id);
    if (level > 0) this.flaggedOrder.unshift(r.id);
  }

  async loadHistory(r) {
    if (!r.chatId || r.historyLoaded) return;
    r.historyLoaded = true;
    try {
      let url = `/api/v1/chats/${encodeURIComponent(r.chatId)}/messages?limit=200`;
      let fromServer = [];
      for (let page = 0; page < 10 && url; page++) {
        const data = await api(url);
        const results = (data && data.results) || [];
        fromServer = fromServer.concat(results);
        this.addMessages(r, results);
        const next = data && data.next;
        if (!next) break;
        url = nextUrl(next, `/api/v1/chats/${encodeURIComponent(r.chatId)}/messages?limit=200`);
      }
      // The stored system messages ("join room", "take over room", "leave room") stand in for
      // the notes made from live events, at their true place in the conversation.
      if (fromServer.some((m) => m && m.type_id === 0)) r.notes = [];
    } catch (e) {
      r.historyLoaded = false;
      console.warn("frontdesk: history", e);
    }
    this.render();
  }

  // ---- server events ---------------------------------------------------------------------------

  bindEvents() {
    const s = this.socket;
    s.on("staff_init", (d) => {
      d = d || {};
      // staff_init is the whole truth (it comes again after every reconnect): rebuild the lists.
      for (const r of this.rooms.values()) { r.inQueue = false; r.inOffline = false; }
      this.onlineStaff.clear();
      for (const st of d.online_users || []) this.onlineStaff.set(st.id, st);
      this.onlineStaff.set(this.me.id, this.me);
      this.onlineVisitors.clear();
      for (const v of d.online_visitors || []) this.onlineVisitors.set(v.visitor_id || v.id, v);
      for (const c of d.unclaimed_chats || []) {
        const r = this.room(c.visitor || c);
        if (!r) continue;
        r.inQueue = true; r.ended = null; r.serving.clear();
        this.addMessages(r, c.contents);
        r.queuedAt = r.queuedAt || firstAt(r) || Date.now();
      }
      for (const v of d.offline_unclaimed_chats || []) {
        const r = this.room(v);
        if (!r) continue;
        r.inOffline = true; r.ended = null; r.serving.clear();
        r.queuedAt = r.queuedAt || toMs(v.created_at);
        if (!r.list.items.length) this.loadHistory(r);
      }
      this.flaggedOrder = [];
      for (const v of d.flagged_chats || []) {
        const r = this.room(v);
        if (r && !this.flaggedOrder.includes(r.id)) this.flaggedOrder.push(r.id);
      }
      // Beyond the seed: the chats I serve (a reloaded console gets them back)...
      const serving = new Set();
      for (const c of d.serving_chats || []) {
        const r = this.room(c.visitor || c);
        if (!r) continue;
        serving.add(r.id);
        this.becomeMine(r);
        if ((c.contents || []).some((m) => m && m.type_id === 0)) r.notes = [];
        this.addMessages(r, c.contents);
        if (!r.list.items.length) this.loadHistory(r);
      }
      // ...and, for supervisors and admins, every claimed chat with its serving staff.
      const claimed = new Set(serving);
      for (const v of d.claimed_chats || []) {
        const r = this.room(v);
        if (!r) continue;
        claimed.add(r.id);
        r.ended = null;
        if (v.staff && v.staff.id && !r.serving.has(v.staff.id)) { r.serving.clear(); r.serving.set(v.staff.id, v.staff); }
      }
      // What I knew before a reconnect and the server no longer lists has ended meanwhile.
      for (const r of this.rooms.values()) {
        if (r.mine && !serving.has(r.id)) {
          this.endRoom(r, "This chat ended while you were disconnected.");
        } else if (!r.mine && !r.inQueue && !r.inOffline && !claimed.has(r.id)) {
          r.serving.clear();
        }
      }
      this.render();
    });

    s.on("staff_goes_online", (d) => { if (d && d.staff) { this.onlineStaff.set(d.staff.id, d.staff); this.renderPeople(); } });
    s.on("staff_goes_offline", (d) => {
      if (!d || !d.staff) return;
      this.onlineStaff.delete(d.staff.id);
      this.renderPeople();
    });
    s.on("visitor_goes_online", (d) => {
      const v = d && d.visitor;
      if (!v) return;
      this.onlineVisitors.set(v.visitor_id || v.id, v);
      const r = this.rooms.get(v.visitor_id || v.id);
      if (r) this.room(v);
      this.render();
    });
    s.on("visitor_goes_offline", (d) => {
      const v = d && d.visitor;
      if (!v) return;
      this.onlineVisitors.delete(v.id);
      this.render();
    });

    s.on("append_unclaimed_chats", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      const wasQueued = r.inQueue;
      r.inQueue = true; r.inOffline = false; r.ended = null;
      r.serving.clear();
      this.addMessages(r, d.contents);
      r.queuedAt = firstAt(r) || Date.now();
      r.lastAt = Math.max(r.lastAt, r.queuedAt);
      if (!wasQueued) {
        const last = r.list.last;
        this.notify("chat", `New chat from ${visitorName(r.info)}`, last ? contentText(last.content) : "", r.id);
      }
      this.render();
    });
    s.on("visitor_unclaimed_msg", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      if (!r.inOffline) r.inQueue = true;
      this.addMessages(r, [d.content]);
      this.render();
    });
    s.on("unclaimed_chat_to_offline", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      r.inQueue = false; r.inOffline = true;
      this.render();
    });
    s.on("remove_visitor_offline_chat", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      r.inOffline = false;
      this.render();
    });
    s.on("staff_claim_chat", (d) => {
      if (!d) return;
      const r = this.room(d.visitor);
      if (r) {
        r.inQueue = false; r.inOffline = false;
        if (d.staff) { r.serving.clear(); r.serving.set(d.staff.id, d.staff); }
        if (d.staff && d.staff.id === this.me.id) this.becomeMine(r);
      }
      const next = d.next_offline_unclaimed_visitor;
      if (next) { const n = this.room(next); if (n && !n.mine && !n.serving.size) n.inOffline = true; }
      this.render();
    });

    s.on("visitor_send", (d) => this.visitorMessage(d));
    s.on("new_visitor_msg_for_supervisor", (d) => this.visitorMessage(d));
    s.on("staff_send", (d) => this.staffMessage(d));
    s.on("new_staff_msg_for_supervisor", (d) => this.staffMessage(d));

    s.on("user_typing_receive", (d) => this.typing(d, true));
    s.on("user_stop_typing_receive", (d) => this.typing(d, false));

    s.on("visitor_leave_queue", (d) => {
      const r = this.room(d && (d.user || d.visitor));
      if (!r) return;
      r.inQueue = false; r.inOffline = false;
      if (r.mine || r.serving.size) this.endRoom(r, `${visitorName(r.info)} left the chat.`);
      this.render();
    });
    s.on("visitor_leave_chat_for_supervisor", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      if (!r.ended) this.endRoom(r, `${visitorName(r.info)} left the chat.`);
      this.render();
    });
    s.on("staff_leave_chat_for_supervisor", (d) => {
      const r = this.room(d && d.visitor);
      if (!r || !d.staff) return;
      r.serving.delete(d.staff.id);
      addNote(r, `${staffName(d.staff)} left the chat`);
      if (r.serving.size === 0 && !r.ended) this.endRoom(r, "The chat has ended.");
      this.render();
    });

    s.on("staff_being_taken_over_chat", (d) => {
      const r = this.room(d && d.visitor);
      if (!r || !d.staff) return;
      const prev = [...r.serving.values()];
      r.serving.clear(); r.serving.set(d.staff.id, d.staff);
      if (d.staff.id === this.me.id) { this.becomeMine(r); this.render(); return; }
      if (r.mine) {
        r.mine = false;
        r.takenOver = true;
        r.notice = `${staffName(d.staff)} took over this chat. You can no longer reply.`;
        r.keepInMine = true;
        this.toast(`${staffName(d.staff)} took over your chat with ${visitorName(r.info)}.`);
      }
      this.takeoverNote(r, d.staff, prev);
      this.render();
    });
    s.on("staff_take_over_chat", (d) => {
      const r = this.room(d && d.visitor);
      if (!r || !d.staff) return;
      if (!r.takenOver) this.takeoverNote(r, d.staff);
      r.serving.clear(); r.serving.set(d.staff.id, d.staff);
      if (d.staff.id === this.me.id) this.becomeMine(r);
      this.render();
    });
    s.on("agent_new_chat", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      r.inQueue = false; r.inOffline = false; r.ended = null;
      if (d.staff) { r.serving.clear(); r.serving.set(d.staff.id, d.staff); }
      this.addMessages(r, d.contents);
      if (d.staff && d.staff.id === this.me.id) this.becomeMine(r);
      this.render();
    });
    s.on("staff_being_added_to_chat", (d) => {
      if (!d || !d.staff) return;
      const r = d.visitor ? this.room(d.visitor) : (d.chat_id ? this.rooms.get(this.byChat.get(d.chat_id)) : null);
      if (!r) return;
      r.serving.set(d.staff.id, d.staff);
      addNote(r, `${staffName(d.staff)} joined the chat`);
      if (d.staff.id === this.me.id) {
        this.becomeMine(r);
        // Messages sent while I was not in the room never reached me: fetch them.
        r.historyLoaded = false;
        this.loadHistory(r);
        this.notify("chat", `You were added to a chat with ${visitorName(r.info)}`, "", r.id);
      }
      this.render();
    });
    s.on("staff_being_removed_from_chat", (d) => {
      if (!d || !d.staff) return;
      const r = d.visitor ? this.room(d.visitor) : (d.chat_id ? this.rooms.get(this.byChat.get(d.chat_id)) : null);
      if (!r) return;
      r.serving.delete(d.staff.id);
      addNote(r, `${staffName(d.staff)} was removed from the chat`);
      if (d.staff.id === this.me.id && r.mine) {
        r.mine = false; r.keepInMine = true;
        r.notice = "You were removed from this chat.";
      }
      this.render();
    });
    s.on("chat_has_changed_priority_for_supervisor", (d) => {
      const r = this.room(d && d.visitor);
      if (!r) return;
      this.setFlag(r, (d.visitor && d.visitor.severity_level) || 0);
      this.render();
    });
  }

  visitorMessage(d) {
    const r = this.room(d && d.visitor);
    if (!r || !d.content) return;
    d = { ...d, content: asMessage(d.content, null) };
    if (this.addMessages(r, [d.content]) === 0) return;
    r.typing = null;
    if (this.selected === r.id) announce(`${visitorName(r.info)} says: ${contentText(d.content.content)}`);
    if (r.mine && (this.selected !== r.id || document.hidden)) {
      r.unread += 1;
      this.notify("message", visitorName(r.info), contentText(d.content.content), r.id);
    }
    this.render();
  }

  staffMessage(d) {
    if (!d || !d.content) return;
    d = { ...d, content: asMessage(d.content, d.staff ? d.staff.id : null) };
    const id = (d.visitor && (d.visitor.visitor_id || d.visitor.id)) || this.byChat.get(d.content.chat_id);
    const r = id ? this.room(d.visitor || id) : null;
    if (!r) return;
    if (d.staff && !r.serving.has(d.staff.id) && !r.ended) r.serving.set(d.staff.id, d.staff);
    if (d.staff) this.knownStaff(d.staff);
    if (this.addMessages(r, [d.content]) === 0) return;
    if (r.typing && r.typing.staff) r.typing = null;
    if (this.selected === r.id && d.staff && d.staff.id !== this.me.id) announce(`${staffName(d.staff)} says: ${contentText(d.content.content)}`);
    if (r.mine && d.staff && d.staff.id !== this.me.id && (this.selected !== r.id || document.hidden)) r.unread += 1;
    this.render();
  }

  /** One note per takeover, whichever of the ack and the events arrives first. */
  takeoverNote(r, staff, prev = []) {
    if (r.lastTakeover === staff.id) return;
    r.lastTakeover = staff.id;
    const who = staff.id === this.me.id ? "You" : staffName(staff);
    const from = prev.filter((p) => p.id !== staff.id).map((p) => (p.id === this.me.id ? "you" : staffName(p)));
    addNote(r, `${who} took over the chat${from.length ? ` from ${from.join(", ")}` : ""}`);
  }

  knownStaff(st) { this.staffCache = this.staffCache || new Map(); this.staffCache.set(st.id, st); }

  staffById(id) {
    if (id === this.me.id) return this.me;
    for (const r of this.rooms.values()) if (r.serving.has(id)) return r.serving.get(id);
    return this.onlineStaff.get(id) || (this.staffCache && this.staffCache.get(id)) || null;
  }

  typing(d, on) {
    if (!d || !d.visitor) return;
    const r = this.rooms.get(d.visitor.visitor_id || d.visitor.id);
    if (!r) return;
    if (d.staff && d.staff.id === this.me.id) return;
    clearTimeout(r.typingTimer);
    r.typing = on ? { name: d.staff ? staffName(d.staff) : visitorName(r.info) } : null;
    if (on) r.typingTimer = setTimeout(() => { r.typing = null; this.renderTyping(); }, TYPING_SHOW_MS);
    this.renderTyping();
  }

  becomeMine(r) {
    r.mine = true; r.ended = null; r.takenOver = false; r.keepInMine = false; r.notice = null;
    r.inQueue = false; r.inOffline = false;
    r.serving.set(this.me.id, this.me);
  }

  endRoom(r, reason) {
    r.ended = reason;
    r.typing = null;
    if (r.mine) { r.keepInMine = true; r.mine = false; }
    r.serving.clear();
  }

  // ---- actions ---------------------------------------------------------------------------------

  async claim(r) {
    const btn = this.$("claim-btn");
    btn.disabled = true;
    try {
      await this.socket.send("staff_join", { visitor: r.id });
      this.becomeMine(r);
      this.select(r.id);
      this.$("composer-input").focus();
    } catch (e) {
      this.toast(e.message, "error");
      if (e.code === "already_claimed") r.inQueue = false;
    } finally {
      btn.disabled = false;
      this.render();
    }
  }

  async takeOver(r) {
    try {
      await this.socket.send("take_over_chat", { visitor: r.id });
      r.serving.clear();
      this.becomeMine(r);
      this.takeoverNote(r, this.me);
      this.loadHistory(r);
      this.render();
      this.$("composer-input").focus();
    } catch (e) { this.toast(e.message, "error"); }
  }

  async leave(r) {
    try {
      await this.socket.send("staff_leave_room", { visitor: r.id });
      r.mine = false; r.keepInMine = false;
      r.serving.delete(this.me.id);
      if (r.serving.size === 0) r.ended = "You left the chat.";
      if (this.selected === r.id) this.select(null);
      this.render();
      this.toast(`You left the chat with ${visitorName(r.info)}.`);
    } catch (e) { this.toast(e.message, "error"); }
  }

  async setPriority(r, level) {
    const prev = r.info.severity_level || 0;
    try {
      await this.socket.send("change_chat_priority", { visitor: r.id, severity_level: level });
      this.setFlag(r, level);
      this.render();
    } catch (e) {
      this.$("conv-priority").value = String(prev);
      this.toast(e.message, "error");
    }
  }

  async addStaff(r, staffId) {
    try {
      await this.socket.send("add_staff_to_chat", { visitor: r.id, staff: staffId });
      const st = this.onlineStaff.get(staffId);
      if (st) r.serving.set(st.id, st);
      if (staffId === this.me.id) { this.becomeMine(r); this.loadHistory(r); }
      this.render();
    } catch (e) { this.toast(e.message, "error"); }
  }

  async removeStaff(r, staffId) {
    try {
      await this.socket.send("remove_staff_from_chat", { visitor: r.id, staff: staffId });
      r.serving.delete(staffId);
      if (staffId === this.me.id) r.mine = false;
      if (r.serving.size === 0) r.inQueue = true;
      this.render();
    } catch (e) { this.toast(e.message, "error"); }
  }

  async sendReply() {
    const r = this.rooms.get(this.selected);
    const input = this.$("composer-input");
    const text = input.value.replace(/\s+$/, "");
    if (!r || !r.mine || !text.trim()) return;
    input.value = "";
    this.drafts.delete(r.id);
    this.stopTyping(r);
    const now = Date.now();
    const item = r.list.addLocal({ id: null, chat_id: r.chatId, type_id: 1, sender: this.me.id,
      content: { content: text, timestamp: now }, created_at: now, status: "sending" }, noteKey(r));
    r.lastAt = now;
    this.render();
    this.deliver(r, item);
  }

  deliver(r, item) {
    item.status = "sending";
    this.socket.send("staff_msg", { visitor: r.id, content: item.content }).then(() => {
      item.status = "sent";
      this.renderThread();
    }, (e) => {
      item.status = "failed";
      item.error = e.message;
      if (e.code === "chat_closed") this.endRoom(r, "This chat has ended.");
      this.render();
    });
  }

  onComposerInput() {
    const r = this.rooms.get(this.selected);
    if (!r || !r.mine) return;
    this.drafts.set(r.id, this.$("composer-input").value);
    const now = Date.now();
    if (this.$("composer-input").value.trim() && now - this.typingSentAt > TYPING_SEND_EVERY_MS) {
      this.typingSentAt = now;
      this.socket.emit("user_typing_send", { visitor: r.id });
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(r), TYPING_IDLE_MS);
  }

  stopTyping(r) {
    clearTimeout(this.typingIdle);
    if (!this.typingSentAt) return;
    this.typingSentAt = 0;
    if (r) this.socket.emit("user_stop_typing_send", { visitor: r.id });
  }

  select(id) {
    const prev = this.rooms.get(this.selected);
    if (prev && prev.id !== id) this.stopTyping(prev);
    this.selected = id;
    const r = id ? this.rooms.get(id) : null;
    if (r) {
      r.unread = 0;
      if (!r.list.items.length || (!r.mine && !r.inQueue)) this.loadHistory(r);
    }
    const input = this.$("composer-input");
    input.value = (r && this.drafts.get(r.id)) || "";
    this.render();
    this.$("thread").scrollTop = this.$("thread").scrollHeight;
  }

  /** Total for the title badge: unread in my chats plus waiting visitors. */
  get attentionCount() {
    const l = this.lists();
    return l.mine.reduce((n, r) => n + r.unread, 0) + l.queue.length;
  }

  // ---- rendering -------------------------------------------------------------------------------

  bindUi() {
    const $ = this.$;
    $("claim-btn").addEventListener("click", () => { const r = this.rooms.get(this.selected); if (r) this.claim(r); });
    $("conv-takeover").addEventListener("click", () => { const r = this.rooms.get(this.selected); if (r) this.takeOver(r); });
    $("conv-leave").addEventListener("click", () => { const r = this.rooms.get(this.selected); if (r) this.leave(r); });
    $("conv-close").addEventListener("click", () => {
      const r = this.rooms.get(this.selected);
      if (r) { r.keepInMine = false; this.select(null); }
    });
    $("conv-priority").addEventListener("change", (e) => {
      const r = this.rooms.get(this.selected);
      if (r) this.setPriority(r, Number(e.target.value));
    });
    $("composer").addEventListener("submit", (e) => { e.preventDefault(); this.sendReply(); });
    const input = $("composer-input");
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.sendReply(); }
    });
    input.addEventListener("input", () => this.onComposerInput());
    input.addEventListener("blur", () => this.stopTyping(this.rooms.get(this.selected)));
    $("add-staff-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const r = this.rooms.get(this.selected);
      const v = $("add-staff-select").value;
      if (r && v) this.addStaff(r, v);
    });
    // Keyboard: Alt+ArrowUp/Down moves between conversations.
    document.addEventListener("keydown", (e) => {
      if (!e.altKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
      const l = this.lists();
      const order = [...l.mine, ...l.queue, ...l.offline, ...l.live].map((r) => r.id);
      if (!order.length) return;
      const i = order.indexOf(this.selected);
      const next = e.key === "ArrowDown" ? order[(i + 1) % order.length] : order[(i - 1 + order.length) % order.length];
      e.preventDefault();
      this.select(next);
      const btn = document.querySelector(`[data-room="${CSS.escape(next)}"]`);
      if (btn) btn.focus();
    });
  }

  render() {
    this.renderLists();
    this.renderConversation();
    this.renderDetails();
    this.renderPeople();
    this.onChange();
  }

  renderLists() {
    const l = this.lists();
    const mineShown = [...l.mine, ...[...this.rooms.values()].filter((r) => !r.mine && r.keepInMine)];
    this.fillList("mine", mineShown, "mine");
    this.fillList("queue", l.queue, "queue");
    this.fillList("offline", l.offline, "offline");
    this.fillList("flagged", l.flagged, "flagged");
    this.$("section-live").hidden = !this.isSupervisor;
    if (this.isSupervisor) this.fillList("live", l.live, "live");
  }

  fillList(name, rooms, kind) {
    const ul = this.$(`list-${name}`);
    const count = this.$(`count-${name}`);
    count.textContent = rooms.length ? String(rooms.length) : "";
    this.$(`empty-${name}`).hidden = rooms.length > 0;
    setChildren(ul, rooms.map((r) => this.listItem(r, kind)));
  }

  listItem(r, kind) {
    const last = r.list.last;
    const name = visitorName(r.info);
    const online = this.onlineVisitors.has(r.id);
    const preview = r.typing ? `${r.typing.name === name ? "" : r.typing.name + " "}typing…`
      : last ? `${last.sender === this.me.id ? "You: " : ""}${contentText(last.content)}` : "";
    const level = r.info.severity_level || 0;
    const servingNames = [...r.serving.values()].filter((s) => s.id !== this.me.id).map(staffName);
    let sub = null;
    if (kind === "live" || (kind === "flagged" && servingNames.length)) sub = el("span", { class: "item-staff" }, `with ${servingNames.join(", ") || "—"}`);
    if (kind === "queue") sub = el("span", { class: "item-wait" }, formatWaiting(r.queuedAt || r.lastAt));
    if (kind === "mine" && !r.mine) sub = el("span", { class: "item-ended" }, r.takenOver ? "Taken over" : r.ended ? "Ended" : "No longer yours");
    const btn = el("button", {
      type: "button",
      class: `item${this.selected === r.id ? " item-active" : ""}${r.unread ? " item-unread" : ""}${r.ended || (kind === "mine" && !r.mine) ? " item-ended-row" : ""}`,
      "aria-current": this.selected === r.id ? "true" : null,
      "data-room": r.id,
      onclick: () => this.select(r.id),
    },
    avatar(name, r.id, online),
    el("span", { class: "item-main" },
      el("span", { class: "item-top" },
        el("span", { class: "item-name" }, name),
        level ? el("span", { class: `flag flag-${level}`, title: `Flagged: ${PRIORITY[level] || level}` }, "⚑", el("span", { class: "sr-only" }, ` flagged ${PRIORITY[level] || level}`)) : null,
        el("span", { class: "item-time" }, r.lastAt ? formatAgo(r.lastAt) : "")),
      el("span", { class: "item-bottom" },
        el("span", { class: `item-preview${r.typing ? " is-typing" : ""}` }, preview),
        r.unread ? el("span", { class: "badge", "aria-label": `${r.unread} unread` }, String(r.unread)) : null),
      sub));
    return el("li", null, btn);
  }

  renderConversation() {
    const $ = this.$;
    const r = this.rooms.get(this.selected);
    $("conv-empty").hidden = !!r;
    $("conv").hidden = !r;
    if (!r) return;
    const name = visitorName(r.info);
    setChildren($("conv-avatar"), initials(name));
    $("conv-avatar").dataset.hue = String(hueFor(r.id) % 12);
    $("conv-name").textContent = name;
    const online = this.onlineVisitors.has(r.id);
    const serving = [...r.serving.values()];
    let sub = online ? "Online" : "Offline";
    if (r.info.email) sub += ` · ${r.info.email}`;
    if (serving.length && !r.mine) sub += ` · with ${serving.map(staffName).join(", ")}`;
    $("conv-sub").textContent = sub;

    const watching = !r.mine && !r.ended && !r.keepInMine && serving.length > 0;
    const unclaimed = !r.mine && !r.ended && (r.inQueue || r.inOffline);
    $("conv-priority").value = String(Math.min(3, r.info.severity_level || 0));
    $("conv-priority").disabled = !!r.ended && !r.inOffline && !r.inQueue;
    const canTakeOver = this.isSupervisor && watching && serving.every((s) => s.role_id > this.me.role_id);
    $("conv-takeover").hidden = !canTakeOver;
    $("conv-leave").hidden = !r.mine;
    $("conv-close").hidden = !(r.keepInMine && !r.mine);

    const banner = $("conv-banner");
    let bannerText = "";
    if (r.ended) bannerText = r.ended;
    else if (r.notice && !r.mine) bannerText = r.notice;
    else if (watching && this.isSupervisor) bannerText = `You are watching this chat live. ${serving.map(staffName).join(", ")} ${serving.length > 1 ? "are" : "is"} serving.`;
    else if (watching) bannerText = `${serving.map(staffName).join(", ")} is serving this chat.`;
    banner.textContent = bannerText;
    banner.hidden = !bannerText;
    banner.className = `conv-banner${r.ended || (r.notice && !r.mine) ? " conv-banner-ended" : ""}`;

    $("claim-bar").hidden = !unclaimed;
    if (unclaimed) {
      $("claim-text").textContent = r.inOffline
        ? `${name} left a message while nobody was available${online ? " and is back online" : ""}. Claim it to reply.`
        : `${name} is in the queue (${formatWaiting(r.queuedAt || r.lastAt)}). Claim the chat to reply.`;
    }
    const composer = $("composer");
    const wasHidden = composer.hidden;
    composer.hidden = !r.mine;
    if (wasHidden && r.mine && document.activeElement === document.body) $("composer-input").focus();
    this.renderThread();
    this.renderTyping();
  }

  renderThread() {
    const r = this.rooms.get(this.selected);
    const thread = this.$("thread");
    if (!r) { thread.replaceChildren(); return; }
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    const rows = [];
    const notes = [...(r.notes || [])];
    const key = (m) => (m.local ? m.afterSeq : (m.sequence_num ?? Infinity));
    let lastSender;
    let lastDay = "";
    const lastOwn = [...r.list.items].reverse().find((m) => m.sender === this.me.id);
    for (const m of r.list.items) {
      while (notes.length && notes[0].key < key(m)) rows.push(noteRow(notes.shift().text));
      const day = new Date(toMs(m.created_at)).toDateString();
      if (day !== lastDay) { rows.push(el("li", { class: "day" }, el("span", null, dayLabel(m.created_at)))); lastDay = day; }
      if (m.type_id === 0) {
        rows.push(noteRow(this.systemText(m), m.created_at));
        lastSender = undefined;
        continue;
      }
      const fromVisitor = m.sender == null;
      const mine = m.sender === this.me.id;
      const who = fromVisitor ? visitorName(r.info) : (mine ? "You" : staffName(this.staffById(m.sender)));
      const showWho = m.sender !== lastSender;
      lastSender = m.sender;
      const row = el("li", { class: `msg ${fromVisitor ? "msg-visitor" : "msg-staff"}${mine ? " msg-mine" : ""}${m.status === "failed" ? " msg-failed" : ""}` },
        showWho ? el("span", { class: "msg-who" }, who) : el("span", { class: "sr-only" }, who),
        el("div", { class: "bubble" }, richText(contentText(m.content))),
        el("span", { class: "msg-meta" },
          el("time", { datetime: new Date(toMs(m.created_at)).toISOString(), title: formatFull(m.created_at) }, formatTime(m.created_at)),
          m.local && (m.status !== "sent" || m === lastOwn) ? ` · ${m.status === "sending" ? "Sending…" : m.status === "sent" ? "Sent" : "Not sent"}` : ""));
      if (m.status === "failed") {
        row.appendChild(el("button", { type: "button", class: "link-btn", onclick: () => { this.deliver(r, m); this.renderThread(); } }, `Retry (${m.error || "failed"})`));
      }
      rows.push(row);
    }
    notes.forEach((n) => rows.push(noteRow(n.text)));
    setChildren(thread, rows);
    if (atBottom || r.list.items.some((m) => m.local && m.status === "sending")) thread.scrollTop = thread.scrollHeight;
  }

  systemText(m) {
    const c = contentText(m.content).toLowerCase();
    const who = m.sender ? (m.sender === this.me.id ? "You" : staffName(this.staffById(m.sender))) : "Someone";
    if (c === "join room") return `${who} joined the chat`;
    if (c === "take over room") return `${who} took over the chat`;
    if (c === "leave room") return `${who} left the chat`;
    return contentText(m.content);
  }

  renderTyping() {
    const r = this.rooms.get(this.selected);
    const line = this.$("typing-line");
    line.replaceChildren();
    if (r && r.typing) {
      line.append(el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")), `${r.typing.name} is typing…`);
    }
    this.renderLists();
  }

  renderDetails() {
    const $ = this.$;
    const r = this.rooms.get(this.selected);
    $("visitor-card").hidden = !r;
    $("participants-card").hidden = !r || r.ended != null;
    if (!r) return;
    const facts = [
      ["Name", visitorName(r.info)],
      ["Email", r.info.email || "—"],
      ["Status", this.onlineVisitors.has(r.id) ? "Online" : "Offline"],
      ["Visitor since", r.info.created_at ? formatFull(r.info.created_at) : "—"],
      ["Priority", PRIORITY[r.info.severity_level || 0] || "Not flagged"],
    ];
    if (r.info.tags && r.info.tags.length) facts.push(["Tags", r.info.tags.map((t) => (typeof t === "string" ? t : t.name)).join(", ")]);
    setChildren($("visitor-facts"), facts.map(([k, v]) => [el("dt", null, k), el("dd", null, v)]));

    const serving = [...r.serving.values()];
    const canManage = this.isSupervisor && !r.ended && (serving.length > 0 || r.mine);
    setChildren($("participants"), serving.length ? serving.map((s) => el("li", { class: "person" },
      avatar(staffName(s), s.id, true, true),
      el("span", { class: "person-main" }, el("span", { class: "person-name" }, staffName(s) + (s.id === this.me.id ? " (you)" : "")),
        el("span", { class: "person-sub" }, roleName(s.role_id))),
      canManage && s.id !== this.me.id ? el("button", { type: "button", class: "link-btn", "aria-label": `Remove ${staffName(s)} from this chat`, onclick: () => this.removeStaff(r, s.id) }, "Remove") : null))
      : el("li", { class: "empty" }, "Nobody has claimed this chat yet."));
    const addable = [...this.onlineStaff.values()].filter((s) => !r.serving.has(s.id));
    $("add-staff-form").hidden = !canManage || addable.length === 0;
    setChildren($("add-staff-select"), addable.map((s) => el("option", { value: s.id, title: roleName(s.role_id) }, `${staffName(s)}${s.id === this.me.id ? " (you)" : ""}`)));
  }

  renderPeople() {
    const $ = this.$;
    const staff = [...this.onlineStaff.values()].sort((a, b) => a.role_id - b.role_id || staffName(a).localeCompare(staffName(b)));
    $("count-staff").textContent = String(staff.length);
    const chatsOf = (id) => [...this.rooms.values()].filter((r) => !r.ended && r.serving.has(id)).length;
    setChildren($("online-staff"), staff.map((s) => el("li", { class: "person" },
      avatar(staffName(s), s.id, true, true),
      el("span", { class: "person-main" },
        el("span", { class: "person-name" }, staffName(s) + (s.id === this.me.id ? " (you)" : "")),
        el("span", { class: "person-sub" }, `${roleName(s.role_id)} · ${chatsOf(s.id)} chat${chatsOf(s.id) === 1 ? "" : "s"}`)))));
    const visitors = [...this.onlineVisitors.values()];
    $("count-visitors").textContent = String(visitors.length);
    $("empty-visitors").hidden = visitors.length > 0;
    setChildren($("online-visitors"), visitors.map((v) => {
      const r = this.rooms.get(v.id);
      let status = "Browsing";
      if (r && r.mine) status = "Chatting with you";
      else if (r && r.inQueue) status = "Waiting in queue";
      else if (r && r.serving.size && !r.ended) status = `Chatting with ${[...r.serving.values()].map(staffName).join(", ")}`;
      const inner = [avatar(visitorName(v), v.id, true, true),
        el("span", { class: "person-main" }, el("span", { class: "person-name" }, visitorName(v)), el("span", { class: "person-sub" }, status))];
      return el("li", { class: "person" }, r ? el("button", { type: "button", class: "person-btn", onclick: () => this.select(v.id) }, inner) : inner);
    }));
  }
}

/** Screen readers hear new messages of the open chat (the thread itself is re-rendered). */
function announce(text) {
  const live = document.getElementById("sr-live");
  if (live) live.textContent = String(text).slice(0, 300);
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

function addNote(r, text) {
  r.notes = r.notes || [];
  r.notes.push({ key: noteKey(r), text });
}

/** A sort key after every message and note shown now. */
function noteKey(r) {
  let k = r.list.nextKey();
  for (const n of r.notes || []) k = Math.max(k, n.key + 0.001);
  return k;
}

function firstAt(r) {
  const f = r.list.items.find((m) => !m.local);
  return f ? toMs(f.created_at) : 0;
}

function noteRow(text, at) {
  return el("li", { class: "note" }, el("span", null, text, at ? ` · ${formatTime(at)}` : ""));
}

function dayLabel(t) {
  const d = new Date(toMs(t));
  const today = new Date();
  const y = new Date(); y.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === y.toDateString()) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "long", month: "short", day: "numeric" });
}

export function avatar(name, id, online, small) {
  return el("span", { class: `avatar${small ? " avatar-sm" : ""}`, "data-hue": String(hueFor(id) % 12), "aria-hidden": "true" },
    initials(name), online ? el("i", { class: "presence" }) : null);
}

export { chime };
