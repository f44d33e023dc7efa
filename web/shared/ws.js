// The native /ws client shared by the console and the visitor chat (product.md §4):
// one JSON object per frame; `{event, data, id}` out, `{ack, result, error_message, code}` and
// `{event, data}` in. Reconnects quickly (capped backoff with jitter, at once when the browser
// says the network is back or the tab is shown again); acks are Promises.
//
// Also here, for both UIs (issue 12): `Outbox` (ordered sends with a `client_msg_id`, resent
// in order after a reconnect until acked), `ChatCursor` (the last `sequence_num` seen per chat,
// `sync` after a reconnect, `messages_since`), and `TabGroup` (one tab of an origin holds the
// connection, chosen with Web Locks; the others talk to it over a BroadcastChannel).

const ACK_TIMEOUT_MS = 10000;
// Reconnect delays: 0.5, 1, 2, then 3 s at most (±25% jitter). The server keeps a party's chats
// for minutes after a drop, so the point is only to be back soon after the network is.
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 3000;

/**
 * A refused or failed request. `kind`: "refused" (the server said no), "timeout", "offline".
 * `code`: the server's stable snake_case reason beside its sentence (`already_claimed`,
 * `chat_closed`, `not_allowed`, …; product.md §8), or null when the server sent none. UIs decide
 * on `code` and show `message` (the sentence); they never match the sentence.
 */
export class AckError extends Error {
  constructor(message, kind, code = null) { super(message); this.kind = kind; this.code = code; }
}

/**
 * States: "idle" → "connecting" → "open"; after a drop "reconnecting" (with `retryAt`);
 * "stopped" when the app ends it (logout, refused session); "unauthorized" when the token
 * is rejected.
 */
export class LiveSocket {
  /**
   * @param {object} opts
   * @param {() => string|null} opts.token  current access token
   * @param {(state: string, info: object) => void} [opts.onState]
   * @param {() => Promise<boolean>} [opts.checkAuth]  resolves false when the token is invalid
   */
  constructor({ token, onState, checkAuth }) {
    this.getToken = token;
    this.onStateCb = onState || (() => {});
    this.checkAuth = checkAuth;
    this.handlers = new Map();
    this.pending = new Map();
    this.nextId = 1;
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.timer = null;
    this.force = false;
    this.everOpened = false;
    this.stateListeners = [];
    // The browser knows before our timers do: retry at once when the network comes back or the
    // tab is shown again (a phone waking up).
    this.onOnline = () => { if (this.state === "reconnecting") this.connectNow(); };
    this.onVisible = () => {
      if (document.visibilityState === "visible" && this.state === "reconnecting") this.connectNow();
    };
    window.addEventListener("online", this.onOnline);
    document.addEventListener("visibilitychange", this.onVisible);
  }

  /** One more listener of state changes `(state, info)`; returns a function that removes it. */
  onStateChange(fn) {
    this.stateListeners.push(fn);
    return () => { this.stateListeners = this.stateListeners.filter((f) => f !== fn); };
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(fn);
    return this;
  }

  setState(state, info = {}) {
    this.state = state;
    this.onStateCb(state, info);
    for (const fn of this.stateListeners) {
      try { fn(state, info); } catch (e) { console.error("frontdesk: state listener", e); }
    }
  }

  /** Opens the connection; `force` takes over from an older session of the same user. */
  connect({ force = false } = {}) {
    this.force = force;
    this.attempt = 0;
    this.connectNow();
  }

  async connectNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ws) { this.detach(this.ws); try { this.ws.close(); } catch { /* already closed */ } }
    this.ws = null;
    const token = this.getToken();
    if (!token) { this.setState("unauthorized"); return; }
    const attemptNo = this.attemptNo = (this.attemptNo || 0) + 1;
    this.setState(this.everOpened ? "reconnecting" : "connecting", { attempt: this.attempt });
    // The token goes in a header, never in the socket's URL (proxies log URLs): a single-use
    // ticket from the API opens the socket instead.
    let ticket;
    try {
      const r = await fetch("/api/v1/ws-ticket", { method: "POST", headers: { Authorization: token } });
      if (attemptNo !== this.attemptNo || this.state === "stopped" || this.state === "unauthorized") return;
      if (r.status === 401) { this.setState("unauthorized"); return; }
      if (!r.ok) throw new Error(`ticket: ${r.status}`);
      ticket = (await r.json()).ticket;
    } catch {
      if (attemptNo === this.attemptNo && this.state !== "stopped") this.scheduleReconnect();
      return;
    }
    if (attemptNo !== this.attemptNo || this.state === "stopped" || this.state === "unauthorized") return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${proto}//${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
    if (this.force) url += "&force=1";
    let ws;
    try { ws = new WebSocket(url); } catch { this.scheduleReconnect(); return; }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.everOpened = true;
      this.attempt = 0;
      // `force` is for this one takeover; a later reconnect must not kick out a newer tab.
      this.force = false;
      this.setState("open");
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failPending("The connection was lost.");
      if (this.state === "stopped" || this.state === "unauthorized") return;
      this.afterDrop(opened, ev);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  detach(ws) { ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null; }

  async afterDrop(opened, ev) {
    // A handshake refused before opening may be a bad token: ask the REST API once.
    if (!opened && this.checkAuth && (this.attempt === 0 || this.attempt % 3 === 2)) {
      try {
        const ok = await this.checkAuth();
        if (ok === false) { this.setState("unauthorized"); return; }
      } catch { /* network down: keep retrying */ }
    }
    if (this.state === "stopped") return;
    this.scheduleReconnect(ev && ev.code);
  }

  scheduleReconnect(code) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = Math.min(BACKOFF_MAX_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.setState("reconnecting", { retryAt, attempt: this.attempt, code });
    this.timer = setTimeout(() => this.connectNow(), delay);
  }

  /** Reconnect now (the "retry now" button). */
  retryNow() { if (this.state !== "open") this.connectNow(); }

  /** Ends the connection and stops reconnecting. */
  stop(state = "stopped") {
    clearTimeout(this.timer);
    this.setState(state);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      this.detach(ws);
      try { ws.close(1000); } catch { /* ignore */ }
    }
    this.failPending("The connection was closed.");
  }

  destroy() {
    this.stop();
    window.removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onVisible);
  }

  receive(raw) {
    let msg;
    try { msg = JSON.parse(raw); } catch { return; }
    if (!msg || typeof msg !== "object") return;
    if ("ack" in msg && !("event" in msg)) {
      const p = this.pending.get(msg.ack);
      if (p) {
        this.pending.delete(msg.ack);
        clearTimeout(p.timer);
        if (msg.result) p.resolve(msg);
        else {
          const code = typeof msg.code === "string" && msg.code ? msg.code : null;
          p.reject(new AckError(msg.error_message || "The server refused the request.", "refused", code));
        }
      } else if (msg.ack == null && msg.result === false) {
        console.warn("frontdesk: server rejected a frame:", msg.error_message);
      }
      return;
    }
    if (typeof msg.event !== "string") return;
    for (const fn of this.handlers.get(msg.event) || []) {
      try { fn(msg.data, msg.event); } catch (e) { console.error(`frontdesk: handler for ${msg.event}`, e); }
    }
    for (const fn of this.handlers.get("*") || []) {
      try { fn(msg.data, msg.event); } catch (e) { console.error(e); }
    }
  }

  get isOpen() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  /**
   * Sends an event and resolves with the ack when `result` is true; rejects with an AckError
   * (`kind`: "refused" with the server's sentence and `code`, "timeout", "offline").
   * `clientMsgId` goes top-level in the frame (`client_msg_id`, product.md §8.11): a resend with
   * the same id is stored once.
   */
  send(event, data = null, { timeout = ACK_TIMEOUT_MS, clientMsgId = null } = {}) {
    if (!this.isOpen) {
      return Promise.reject(new AckError("You are offline. Reconnecting…", "offline"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AckError("The server did not answer in time.", "timeout"));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
      try {
        const frame = { event, data, id };
        if (clientMsgId) frame.client_msg_id = clientMsgId;
        this.ws.send(JSON.stringify(frame));
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new AckError("You are offline. Reconnecting…", "offline"));
      }
    });
  }

  /** Fire-and-forget (typing signals); no ack requested. */
  emit(event, data = null) {
    if (!this.isOpen) return false;
    try { this.ws.send(JSON.stringify({ event, data })); return true; } catch { return false; }
  }

  failPending(reason) {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new AckError(reason, "offline"));
      this.pending.delete(id);
    }
  }
}

/**
 * True right after this tab reloaded or navigated within the app: the server may not have seen
 * the old page's socket close yet, so an "already online" answer is our own previous page and
 * the app may take over with `force` without asking.
 */
const RELOAD_KEY = "frontdesk.page_left_at";
export function justReloaded() {
  let t = 0;
  try { t = Number(sessionStorage.getItem(RELOAD_KEY) || 0); } catch { /* storage blocked */ }
  return Date.now() - t < 15000;
}
window.addEventListener("pagehide", () => {
  try { sessionStorage.setItem(RELOAD_KEY, String(Date.now())); } catch { /* ignore */ }
});

/** Human text for a connection state, shared by both UIs. */
export function describeState(state, info = {}) {
  switch (state) {
    case "open": return "Connected";
    case "connecting": return "Connecting…";
    case "reconnecting": {
      if (info.retryAt) {
        const s = Math.max(0, Math.ceil((info.retryAt - Date.now()) / 1000));
        return s > 0 ? `Connection lost. Reconnecting in ${s}\u00a0s…` : "Reconnecting…";
      }
      return "Reconnecting…";
    }
    case "unauthorized": return "Signed out";
    case "stopped": return "Disconnected";
    default: return "Offline";
  }
}

/**
 * A message object (product.md §5) from an event payload. Tolerates a bare content object (the
 * seed's older shape) by wrapping it, so a server that sends `{content, timestamp}` still renders.
 */
export function asMessage(m, sender = null) {
  if (!m || typeof m !== "object") return null;
  if ("type_id" in m || "sequence_num" in m || "chat_id" in m) return m;
  return { id: null, chat_id: null, sequence_num: undefined, type_id: 1, sender, content: m,
    created_at: typeof m.timestamp === "number" ? m.timestamp : Date.now() };
}

/** Messages keyed by id, kept in sequence order; local (not yet acked) ones at the end. */
export class MessageList {
  constructor() { this.items = []; }

  clear() { this.items = []; }

  /** Adds a server message object; replaces a matching local echo. Returns true if new. */
  add(msg) {
    if (!msg || typeof msg !== "object") return false;
    if (msg.id && this.items.some((m) => m.id === msg.id)) return false;
    const ts = msg.content && msg.content.timestamp;
    const local = this.items.findIndex((m) => m.local && ts && m.content.timestamp === ts &&
      m.sender === msg.sender && m.content.content === (msg.content && msg.content.content));
    if (local >= 0) {
      this.items[local] = msg;
    } else {
      this.items.push(msg);
    }
    this.sort();
    return local < 0;
  }

  /** A message shown before the server has it (own sends); sorted after what is known now. */
  addLocal(msg, minKey = 0) {
    const item = { ...msg, local: true, afterSeq: Math.max(this.nextKey(), minKey), order: this.items.length };
    this.items.push(item);
    return item;
  }

  maxSeq() {
    let m = 0;
    for (const it of this.items) if (!it.local && typeof it.sequence_num === "number") m = Math.max(m, it.sequence_num);
    return m;
  }

  /** A sort key just after everything shown now (for local echoes and notes). */
  nextKey() {
    let m = 0;
    for (const it of this.items) {
      const k = it.local ? it.afterSeq : it.sequence_num;
      if (typeof k === "number" && isFinite(k)) m = Math.max(m, k);
    }
    return m + 0.01;
  }

  sort() {
    const key = (m) => (m.local ? m.afterSeq : (typeof m.sequence_num === "number" ? m.sequence_num : Infinity));
    this.items.forEach((m, i) => { if (m.order == null) m.order = i; });
    this.items.sort((a, b) => (key(a) - key(b)) || ((a.created_at || 0) - (b.created_at || 0)) || (a.order - b.order));
  }

  get last() {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i].type_id !== 0) return this.items[i];
    return this.items[this.items.length - 1] || null;
  }
}

// ---- issue 12: ordered sends, resume, several tabs ---------------------------------------------

/** A fresh client message id (product.md §8.11: 1–64 characters). */
export function newClientMsgId() {
  try { if (crypto.randomUUID) return crypto.randomUUID(); } catch { /* old browser */ }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

const RETRY_SOON_MS = 1000;

/**
 * An ordered outbox of message sends. Entries go out one at a time in the order they were
 * pushed, each with its `client_msg_id`; an entry whose ack is lost (drop, timeout) stays first
 * and goes again with the same id when the link is back (the server stores it once), so the
 * server's order is the order they were typed. A refusal (other than `rate_limited`) marks the
 * entry "failed" and the next goes; `retry(entry)` queues it again, at the end.
 *
 * Entry: `{clientMsgId, event, data, status: "queued"|"sending"|"sent"|"failed", error, meta}`.
 * `send(event, data, {clientMsgId})` → Promise (LiveSocket#send or a relay to another tab);
 * `isOpen()`; `onChange(entry)` after every status change. Call `pump()` when the link opens
 * (given a LiveSocket as `socket`, the outbox listens by itself).
 */
export class Outbox {
  constructor({ socket = null, send = null, isOpen = null, onChange = null } = {}) {
    this.sendFn = send || ((event, data, o) => socket.send(event, data, o));
    this.isOpenFn = isOpen || (() => !!socket && socket.isOpen);
    this.onChange = onChange || (() => {});
    this.queue = [];
    this.inflight = null;
    this.timer = null;
    if (socket) socket.onStateChange((s) => { if (s === "open") this.pump(); });
  }

  /** Queues a send; `meta` is the caller's (e.g. the shown message). */
  push(event, data, { clientMsgId = newClientMsgId(), meta = null } = {}) {
    const entry = { clientMsgId, event, data, status: "queued", error: null, meta };
    this.queue.push(entry);
    this.onChange(entry);
    this.pump();
    return entry;
  }

  retry(entry) {
    if (entry.status !== "failed") return;
    entry.status = "queued";
    entry.error = null;
    this.queue.push(entry);
    this.onChange(entry);
    this.pump();
  }

  /** Entries not acked yet, in order. */
  get pending() { return this.queue.slice(); }

  /** Drops everything (a new conversation, sign-out). */
  clear() { this.queue = []; clearTimeout(this.timer); }

  pump() {
    if (this.inflight || !this.isOpenFn()) return;
    const entry = this.queue[0];
    if (!entry) return;
    this.inflight = entry;
    entry.status = "sending";
    this.onChange(entry);
    let settled = false;
    const done = () => { settled = true; if (this.inflight === entry) this.inflight = null; };
    Promise.resolve()
      .then(() => this.sendFn(entry.event, entry.data, { clientMsgId: entry.clientMsgId }))
      .then(() => {
        done();
        this.queue = this.queue.filter((e) => e !== entry);
        entry.status = "sent";
        this.onChange(entry);
        this.pump();
      }, (err) => {
        if (settled) return;
        done();
        const kind = err && err.kind;
        if (kind === "refused" && err.code !== "rate_limited") {
          this.queue = this.queue.filter((e) => e !== entry);
          entry.status = "failed";
          entry.error = err.message;
          this.onChange(entry);
          this.pump();
          return;
        }
        // Lost or slowed down: it stays first and goes again with the same id.
        entry.status = "queued";
        entry.error = err && err.message;
        this.onChange(entry);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.pump(), RETRY_SOON_MS);
      });
  }
}

/**
 * The last `sequence_num` seen per chat, and `sync {chat_id, after_sequence_num}` to get what
 * came after it (`messages_since {chat_id, messages}`, product.md §8.11): after a reconnect it
 * syncs every chat it follows, so a client adds what it missed instead of reloading everything.
 * `onMessages(chatId, messages)` gets every answer (messages in order, possibly empty);
 * `onClosed(chatId)` when the server says the chat is closed (`chat_closed`).
 */
export class ChatCursor {
  constructor(socket, { onMessages = null, onClosed = null, autoSync = true } = {}) {
    this.socket = socket;
    this.onMessages = onMessages || (() => {});
    this.onClosed = onClosed || (() => {});
    this.seen = new Map();
    this.opens = 0;
    socket.on("messages_since", (d) => {
      if (!d || typeof d.chat_id !== "string" || !Array.isArray(d.messages)) return;
      this.seeMessages(d.messages);
      this.onMessages(d.chat_id, d.messages);
    });
    if (autoSync) {
      socket.onStateChange((s) => {
        if (s !== "open") return;
        if (this.opens++ > 0) this.syncAll();
      });
    }
  }

  /** Follow a chat from `seq` on (a chat we have shown up to `seq`). */
  see(chatId, seq = 0) {
    if (!chatId) return;
    const n = typeof seq === "number" && isFinite(seq) ? seq : 0;
    this.seen.set(chatId, Math.max(this.seen.get(chatId) || 0, n));
  }

  seeMessages(messages) {
    for (const m of messages || []) if (m && m.chat_id) this.see(m.chat_id, m.sequence_num);
  }

  last(chatId) { return this.seen.get(chatId) || 0; }
  follows(chatId) { return this.seen.has(chatId); }
  forget(chatId) { this.seen.delete(chatId); }

  /** Asks for what came after the last message seen in `chatId`; resolves true when asked. */
  async sync(chatId) {
    if (!this.seen.has(chatId)) this.see(chatId, 0);
    try {
      await this.socket.send("sync", { chat_id: chatId, after_sequence_num: this.last(chatId) });
      return true;
    } catch (e) {
      if (e && e.code === "chat_closed") { this.forget(chatId); this.onClosed(chatId); }
      return false;
    }
  }

  syncAll() { for (const id of [...this.seen.keys()]) this.sync(id); }
}

/**
 * Tabs of one origin sharing one live session: the tab holding the Web Lock `frontdesk:<name>`
 * is the leader (it holds the connection); the others follow over the BroadcastChannel of the
 * same name. When the leader tab closes, the lock passes to a follower: `onLeader()` runs there.
 * Without Web Locks or BroadcastChannel every tab leads alone (the old behaviour).
 * `onMessage(msg)` gets what the other tabs post.
 */
export class TabGroup {
  constructor(name, { onLeader, onFollower = null, onMessage }) {
    this.name = `frontdesk:${name}`;
    this.onLeader = onLeader;
    this.onFollower = onFollower || (() => {});
    this.onMessage = onMessage;
    this.leader = false;
    this.channel = null;
    this.release = null;
  }

  get shared() { return !!this.channel; }

  start() {
    const canShare = typeof BroadcastChannel === "function" && navigator.locks && navigator.locks.request;
    if (!canShare) { this.becomeLeader(); return; }
    this.channel = new BroadcastChannel(this.name);
    this.channel.onmessage = (ev) => {
      if (ev.data && typeof ev.data.type === "string") this.onMessage(ev.data);
    };
    const hold = () => { this.becomeLeader(); return new Promise((r) => { this.release = r; }); };
    navigator.locks.request(this.name, { ifAvailable: true }, (lock) => {
      if (lock) return hold();
      // Another tab leads: follow it, and wait in line to take over when it goes.
      this.onFollower();
      navigator.locks.request(this.name, hold).catch(() => {});
      return null;
    }).catch(() => this.becomeLeader());
  }

  becomeLeader() {
    if (this.leader) return;
    this.leader = true;
    this.onLeader();
  }

  post(msg) {
    if (!this.channel) return;
    try { this.channel.postMessage(msg); } catch (e) { console.error("frontdesk: tab message", e); }
  }

  close() {
    if (this.release) this.release();
    if (this.channel) this.channel.close();
  }
}
