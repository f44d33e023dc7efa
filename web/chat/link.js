// The /ws connection, shared by the tabs of the shop: the leader tab holds it, the others follow
// over a BroadcastChannel (requests relayed, events passed on).
import { LiveSocket, AckError, Outbox, ChatCursor, TabGroup, newClientMsgId } from "/shared/ws.js";
import { t } from "./texts.js";
import { $, ui, state, loadSession, saveSession } from "./state.js";
import { endChat, startOver } from "./conversation.js";
import { queueSend, sendStatus, showOwn } from "./sending.js";
import { render, renderBanner } from "./view.js";
import { setRead, markRead, renderComposerExtras, sendPage, prechatRefused } from "./extras.js";

export const socket = new LiveSocket({
  token: () => state.session && state.session.token,
  onState: (s, info) => {
    // Only the leader's socket ever connects; it tells the other tabs how the link is.
    if (role === "follower") return;
    setConn(s, info);
    tabs.post({ type: "conn", state: s, info });
  },
  checkAuth: async () => {
    const res = await fetch("/api/v1/me", { headers: { Authorization: state.session.token } });
    if (res.status === 401) return false;
    return true;
  },
});

// The last sequence_num seen per chat; after a reconnect it asks for what came since.
export const cursor = new ChatCursor(socket);

// Sends from every tab, in order, each until acked (leader only).
export const outbox = new Outbox({
  socket,
  // A first message refused for the pre-chat form: the form comes back with the message in the composer.
  send: (event, data, o) => socket.send(event, data, o).catch((e) => {
    if (e && e.code === "prechat_required") prechatRefused(o && o.clientMsgId, e.message);
    throw e;
  }),
  onChange: (entry) => sendStatus(entry.clientMsgId, entry.status, entry.error, entry.data, entry.meta) });

export const entries = new Map(); // client_msg_id -> outbox entry (leader)

export let role = "none";           // "leader" | "follower" (until the lock answers: "none")

export const relayed = new Map();   // request id -> {resolve, reject, timer} (follower's requests to the leader)

export let awaitingSnapshot = false;

export const tabs = new TabGroup("visitor-chat", {
  onLeader: () => {
    const wasFollower = role === "follower";
    role = "leader";
    state.session = loadSession() || state.session;
    tabs.post({ type: "leader" });
    if (state.session) socket.connect({ force: wasFollower });
    // What this tab typed while it followed goes out now, in order.
    for (const m of state.list.items) {
      if (m.local && (m.status === "queued" || m.status === "sending")) queueSend(m.clientMsgId, m.content, m.fresh);
    }
    for (const [, r] of relayed) r.reject(new AckError(t("offline_retry"), "offline"));
  },
  onFollower: () => {
    role = "follower";
    awaitingSnapshot = true;
    tabs.post({ type: "hello" });
    for (const m of state.list.items) {
      if (m.local && m.status === "queued") tabs.post({ type: "send", clientMsgId: m.clientMsgId, content: m.content, fresh: m.fresh });
    }
  },
  onMessage: (msg) => (role === "leader" ? fromFollower(msg) : fromLeader(msg)),
});

/** The leader hears a follower. */
export function fromFollower(msg) {
  switch (msg.type) {
    case "hello": tabs.post(snapshot()); break;
    case "retry":
      // A follower was shown while the link is down: a hidden leader's timers may be throttled.
      if (socket.state === "reconnecting") socket.connectNow();
      break;
    case "session":
      state.session = loadSession();
      if (state.session && socket.state === "idle") socket.connect();
      break;
    case "send":
      if (typeof msg.clientMsgId === "string" && msg.content) {
        showOwn(msg.clientMsgId, msg.content, "queued", null, msg.fresh);
        queueSend(msg.clientMsgId, msg.content, msg.fresh);
        render();
      }
      break;
    case "request":
      socket.send(msg.event, msg.data).then(
        () => tabs.post({ type: "reply", reqId: msg.reqId, ok: true }),
        (e) => tabs.post({ type: "reply", reqId: msg.reqId, ok: false, message: e.message, kind: e.kind, code: e.code }));
      break;
    default: sharedMessage(msg);
  }
}

/** A follower hears the leader (or another follower). */
export function fromLeader(msg) {
  switch (msg.type) {
    case "event": dispatch(msg.event, msg.data); break;
    case "snapshot": if (awaitingSnapshot) { awaitingSnapshot = false; applySnapshot(msg); } break;
    case "conn": setConn(msg.state, msg.info || {}); break;
    case "status": showOwn(msg.clientMsgId, msg.content, msg.status, msg.error, msg.fresh); render(); break;
    case "reply": {
      const r = relayed.get(msg.reqId);
      if (!r) break;
      relayed.delete(msg.reqId);
      clearTimeout(r.timer);
      if (msg.ok) r.resolve(true); else r.reject(new AckError(msg.message || "The server refused the request.", msg.kind || "refused", msg.code || null));
      break;
    }
    case "leader":
      // A new leader: hand it what we typed that it may not have (the same ids: stored once).
      for (const m of state.list.items) {
        if (m.local && m.status !== "sent" && m.status !== "failed") {
          tabs.post({ type: "send", clientMsgId: m.clientMsgId, content: m.content, fresh: m.fresh });
        }
      }
      break;
    default: sharedMessage(msg);
  }
}

/** What any tab tells all the others about the visitor's own actions. */
export function sharedMessage(msg) {
  if (msg.type === "ended-by-visitor" && state.phase !== "ended") {
    endChat(t("ended_by_you"), true);
    render();
  } else if (msg.type === "new-conversation" && state.phase === "ended") {
    startOver();
  } else if (msg.type === "contact" && msg.visitor && state.session) {
    saveSession({ ...state.session, visitor: msg.visitor });
    render();
  }
}

/** A request through whichever tab holds the connection. */
export function request(event, data) {
  if (role !== "follower") return socket.send(event, data);
  const reqId = newClientMsgId();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { relayed.delete(reqId); reject(new AckError(t("no_answer"), "timeout")); }, 12000);
    relayed.set(reqId, { resolve, reject, timer });
    tabs.post({ type: "request", reqId, event, data });
  });
}

export function snapshot() {
  return {
    type: "snapshot",
    phase: state.phase,
    staff: [...state.staff.values()],
    away: [...state.away],
    items: state.list.items.map((m) => ({ ...m })),
    notes: state.notes,
    queue: state.queue,
    available: state.available,
    opensAt: state.opensAt,
    leftMessage: state.leftMessage,
    chatId: state.chatId,
    read: state.read,
    endedText: ui.endedText.textContent,
    conn: { state: state.connState, info: state.connInfo },
  };
}

export function applySnapshot(s) {
  const mine = state.list.items.filter((m) => m.local && m.status !== "sent");
  state.list.clear();
  for (const m of s.items || []) state.list.items.push(m);
  for (const m of mine) if (!state.list.items.some((x) => x.clientMsgId === m.clientMsgId)) state.list.items.push(m);
  state.list.sort();
  state.notes = Array.isArray(s.notes) ? s.notes : [];
  state.staff = new Map((s.staff || []).map((st) => [st.id, st]));
  state.away = new Set(s.away || []);
  state.queue = s.queue || null;
  if (typeof s.available === "boolean") state.available = s.available;
  state.opensAt = typeof s.opensAt === "number" ? s.opensAt : null;
  state.leftMessage = !!s.leftMessage;
  state.chatId = s.chatId || null;
  if (s.phase) state.phase = s.phase;
  if (s.endedText) ui.endedText.textContent = s.endedText;
  state.initSeen = true;
  cursor.seeMessages(state.list.items.filter((m) => !m.local));
  if (s.conn) setConn(s.conn.state, s.conn.info || {});
  if (s.read) setRead(s.read);
  render();
}

export function setConn(s, info) {
  if (s !== "open" && (state.connState === "open" || !state.droppedAt)) state.droppedAt = Date.now();
  state.connState = s;
  state.connInfo = info || {};
  renderBanner();
  if (s === "open") { sendPage(); markRead(); renderComposerExtras(); }
}

// ---- server events (the leader's socket, or passed on by it) -----------------------------------

export const handlers = new Map();

export function on(event, fn) { handlers.set(event, fn); socket.on(event, fn); }

export function dispatch(event, data) {
  const fn = handlers.get(event);
  if (!fn) return;
  try { fn(data, event); } catch (e) { console.error(`frontdesk: handler for ${event}`, e); }
}
