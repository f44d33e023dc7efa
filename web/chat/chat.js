// The visitor chat: standalone at /chat/ and inside the widget's iframe (?embed=1).
// Talks to /ws as a visitor (product.md §4, §6). All user text is rendered with textContent.

import { LiveSocket, MessageList, asMessage, AckError, Outbox, ChatCursor, TabGroup, newClientMsgId }
  from "/shared/ws.js";
import { el, setChildren, formatTime, formatFull, contentText, staffName, linkify,
  errorMessage, unlockAudio, chime, toMs } from "/shared/format.js";
import { t, waitWords, opensAtWords, applyTexts, chooseLang, setOverrides, hasOverride } from "./texts.js";
import { attachmentOf, attachmentView, setupAttachments } from "./attach.js";
import { ratingForm, inactivityNotice } from "./ending.js";

const STORE_KEY = "frontdesk.visitor";
const NAMES_KEY = "frontdesk.visitor.staff_names";
const LAST_CHAT_KEY = "frontdesk.visitor.last_chat";   // {chat_id, at}: the chat to show after it ends
const ENDED_KEEP_MS = 24 * 3600 * 1000;                 // an ended chat stays on screen for a day
const PENDING_KEY = 1e12;                               // sort key of sends not acked yet: after everything
const QUIET_OUTAGE_MS = 2000;                           // a shorter outage shows no banner at all
const TYPING_IDLE_MS = 2500;
const TYPING_REPEAT_MS = 4000;
const TYPING_SHOW_MS = 8000;

const params = new URLSearchParams(location.search);
const embedded = params.get("embed") === "1" && window.parent !== window;
const hostOrigin = safeOrigin(params.get("host"));
const hideWhenOffline = params.get("hideoffline") === "1";
const AVAILABILITY_POLL_MS = 60000;                     // the launcher follows the team's availability
// The host page's data-prechat: the fallback when the server's pre-chat setting is off.
const hostPrechat = ["off", "optional", "required"].includes(params.get("prechat")) ? params.get("prechat") : "optional";
const CONTENT_LIMIT = 16 * 1024;                        // bytes of a message's content JSON (product.md §7)
chooseLang(params.get("lang"));

const $ = (id) => document.getElementById(id);
const ui = {
  app: $("app"), title: $("title"), subtitle: $("subtitle"), avatar: $("head-avatar"),
  endBtn: $("end-chat"), minimize: $("minimize"), banner: $("banner"), bannerText: $("banner-text"),
  bannerAction: $("banner-action"), log: $("log"), intro: $("intro"), greeting: $("greeting"),
  prechat: $("prechat"), pcName: $("pc-name"), pcEmail: $("pc-email"), pcError: $("prechat-error"),
  messages: $("messages"), waiting: $("waiting"), waitingDetail: $("waiting-detail"),
  ended: $("ended"), endedText: $("ended-text"), newChat: $("new-chat"), typing: $("typing"),
  typingText: $("typing-text"), composer: $("composer"), input: $("input"), send: $("send"),
  confirmEnd: $("confirm-end"), away: $("agent-away"), awayText: $("agent-away-text"),
  offline: $("offline"), offlineWhen: $("offline-when"), offlineText: $("offline-text"),
  contact: $("contact"), ctName: $("ct-name"), ctEmail: $("ct-email"), ctError: $("contact-error"),
  ctSave: $("contact-save"), ctSaved: $("contact-saved"), ctSavedText: $("contact-saved-text"),
  ctChange: $("contact-change"),
  attach: $("attach"), fileInput: $("file-input"), attachHint: $("attach-hint"), dropzone: $("dropzone"),
  notice: $("notice"), composerError: $("composer-error"), rating: $("rating"),
};

const state = {
  session: loadSession(),     // {token, expires_at, visitor}
  phase: "new",               // new | waiting | active | ended
  chatId: null,               // the chat on screen, once a message told us
  staff: new Map(),           // id -> staff serving this chat
  away: new Set(),            // ids of serving staff whose connection dropped (staff_away)
  pendingCount: 0,            // orders our sends not acked yet
  forcedAt: 0,                // last takeover of an older session with `force`
  droppedAt: 0,               // when the link last went down (the banner waits a little)
  names: loadNames(),         // id -> name of every staff seen (history after a reload)
  list: new MessageList(),
  notes: [],                  // system notes shown between messages: {afterSeq, text, at}
  queue: null,                // {position, estimated_wait_seconds}
  available: null,            // is anyone available (GET /api/v1/availability, visitor_init)? null: not known
  opensAt: null,              // when business hours open again (ms), or null
  leftMessage: false,         // this chat went to the offline queue (no_staff_available)
  editingContact: false,      // the saved contact is being changed
  unread: 0,
  panelOpen: !embedded,
  connState: "idle",
  connInfo: {},
  initSeen: false,
  typingSentAt: 0,
  typingIdleTimer: null,
  typingShowTimer: null,
  bannerTimer: null,
  stick: true,                // keep the log scrolled to the newest message (false once the reader scrolls up)
  read: { visitor: 0, staff: 0 }, // read pointers (issue 14): ours as sent, and what staff have read
  readSent: 0,                // the highest sequence_num we told the server we read
  prechat: null,              // the server's pre-chat setting {enabled, name, email}, once known
  prechatRefused: "",         // the server refused a first message: the form must be filled
  hostPage: null,             // {url, title, referrer} of the host page (the widget tells us)
  pageSent: null,             // the host page view we sent as visitor_page
};

function safeOrigin(s) {
  try { return s ? new URL(s).origin : null; } catch { return null; }
}

// ---- configuration from the query (the widget's data- attributes) -----------------------------

let configuredTitle = t("title");

function applyConfig() {
  const title = params.get("title");
  // The server's override of "title" wins over the page's data-title, as with every text.
  configuredTitle = hasOverride("title") || !title ? t("title") : title.slice(0, 80);
  document.title = configuredTitle;
  ui.title.textContent = configuredTitle;
  const greeting = params.get("greeting");
  ui.greeting.textContent = greeting && !hasOverride("greeting") ? greeting.slice(0, 500) : t("greeting");
  const color = params.get("color");
  if (color && CSS.supports("color", color)) {
    const root = document.documentElement.style;
    root.setProperty("--accent", color);
    root.setProperty("--accent-text", readableOn(color));
  }
  if (embedded) {
    document.body.classList.add("embedded");
    ui.minimize.hidden = false;
  }
}

/** Black or white text, whichever reads better on `color`. */
function readableOn(color) {
  const probe = document.createElement("span");
  probe.style.color = color;
  document.body.appendChild(probe);
  const rgb = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || ["0", "0", "0"];
  probe.remove();
  const [r, g, b] = rgb.slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return lum > 0.45 ? "#111827" : "#ffffff";
}

// ---- session -----------------------------------------------------------------------------------

function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (s && s.token && (!s.expires_at || toMs(s.expires_at) > Date.now())) return s;
  } catch { /* storage blocked or corrupt */ }
  return null;
}

function loadNames() {
  try { return new Map(Object.entries(JSON.parse(localStorage.getItem(NAMES_KEY) || "{}"))); } catch { return new Map(); }
}

function rememberStaff(st) {
  if (!st || !st.id || state.names.get(st.id) === staffName(st)) return;
  state.names.set(st.id, staffName(st));
  try { localStorage.setItem(NAMES_KEY, JSON.stringify(Object.fromEntries([...state.names].slice(-50)))); } catch { /* ignore */ }
}

function nameOf(id) {
  const st = state.staff.get(id);
  return st ? staffName(st) : (state.names.get(id) || null);
}

function saveSession(s) {
  state.session = s;
  try {
    if (s) localStorage.setItem(STORE_KEY, JSON.stringify(s));
    else localStorage.removeItem(STORE_KEY);
  } catch { /* storage blocked: the chat lasts as long as the page */ }
}

async function createVisitor() {
  const body = prechatShown() ? prechatValues() : {};
  const res = await fetch("/api/v1/visitors", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(await errorMessage(res, t("start_failed")));
  const data = await res.json();
  saveSession({ token: data.access_token, expires_at: data.expires_at || null, visitor: data.visitor });
}

// ---- the connection, shared by the tabs of the shop --------------------------------------------
//
// One tab holds the /ws connection (the leader, elected with Web Locks); the other tabs follow
// over a BroadcastChannel: the leader passes every server event on, sends what they type (with
// their client message ids) and tells every tab how each send went. When the leader tab
// closes, a follower takes over and connects with `force` (the old session may not be gone yet).

const socket = new LiveSocket({
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
const cursor = new ChatCursor(socket);

// Sends from every tab, in order, each until acked (leader only).
const outbox = new Outbox({
  socket,
  // A first message refused for the pre-chat form: the form comes back with the message in the composer.
  send: (event, data, o) => socket.send(event, data, o).catch((e) => {
    if (e && e.code === "prechat_required") prechatRefused(o && o.clientMsgId, e.message);
    throw e;
  }),
  onChange: (entry) => sendStatus(entry.clientMsgId, entry.status, entry.error, entry.data, entry.meta) });
const entries = new Map(); // client_msg_id -> outbox entry (leader)

let role = "none";           // "leader" | "follower" (until the lock answers: "none")
const relayed = new Map();   // request id -> {resolve, reject, timer} (follower's requests to the leader)
let awaitingSnapshot = false;

const tabs = new TabGroup("visitor-chat", {
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
function fromFollower(msg) {
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
function fromLeader(msg) {
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
function sharedMessage(msg) {
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
function request(event, data) {
  if (role !== "follower") return socket.send(event, data);
  const reqId = newClientMsgId();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { relayed.delete(reqId); reject(new AckError(t("no_answer"), "timeout")); }, 12000);
    relayed.set(reqId, { resolve, reject, timer });
    tabs.post({ type: "request", reqId, event, data });
  });
}

function snapshot() {
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

function applySnapshot(s) {
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

function setConn(s, info) {
  if (s !== "open" && (state.connState === "open" || !state.droppedAt)) state.droppedAt = Date.now();
  state.connState = s;
  state.connInfo = info || {};
  renderBanner();
  if (s === "open") { sendPage(); markRead(); renderComposerExtras(); }
}

// ---- server events (the leader's socket, or passed on by it) -----------------------------------

const handlers = new Map();
function on(event, fn) { handlers.set(event, fn); socket.on(event, fn); }
function dispatch(event, data) {
  const fn = handlers.get(event);
  if (!fn) return;
  try { fn(data, event); } catch (e) { console.error(`frontdesk: handler for ${event}`, e); }
}
// The leader passes every event on to the other tabs.
socket.on("*", (data, event) => tabs.post({ type: "event", event, data }));

on("visitor_init", (data) => {
  data = data || {};
  // product.md says `contents`; the seed says `content`.
  const raw = Array.isArray(data.contents) ? data.contents : (Array.isArray(data.content) ? data.content : []);
  const contents = raw.map((m) => asMessage(m)).filter(Boolean);
  if (typeof data.available === "boolean") setAvailability(data.available, data.opens_at);
  setPrechat(data.prechat);
  const hadOpenChat = state.phase === "waiting" || state.phase === "active";
  state.staff.clear();
  if (data.staff) { state.staff.set(data.staff.id, data.staff); rememberStaff(data.staff); }
  const pending = state.list.items.some((m) => m.local && m.status !== "sent" && m.status !== "failed");
  if (contents.length > 0) {
    const chatId = contents[0].chat_id;
    if (chatId && state.chatId && chatId !== state.chatId) resetConversation(true);
    mergeMessages(contents);
    setRead(data.read);
    state.phase = state.staff.size ? "active" : "waiting";
    // An open chat nobody serves while nobody is available: it waits in the offline queue.
    state.leftMessage = state.phase === "waiting" && state.available === false;
  } else if (pending && role === "leader") {
    // The chat ended while we were away and what was typed meanwhile starts a new one.
    resetConversation(true);
    state.phase = "waiting";
  } else if (hadOpenChat && (state.chatId || state.list.items.some((m) => !m.local || m.status === "sent"))) {
    endChat(t("ended"), false);
  } else if (state.phase === "new" && !state.initSeen) {
    showEndedConversation();
  }
  state.initSeen = true;
  render();
  sendPage();
});

on("messages_since", (d) => {
  if (!d || !Array.isArray(d.messages)) return;
  if (state.chatId && d.chat_id !== state.chatId) return;
  mergeMessages(d.messages.map((m) => asMessage(m)).filter(Boolean));
  render();
});

on("visitor_room_exists", () => {
  if (role !== "leader") return; // passed on by the leader, which handles it
  // No tab of ours holds the session (this one leads): the server still counts an older
  // connection (the page before a reload, a tab closed a moment ago). Replace it, once a while.
  socket.stop();
  const now = Date.now();
  if (now - state.forcedAt > 10000) {
    state.forcedAt = now;
    socket.connect({ force: true });
    return;
  }
  showBanner(t("other_window"), t("use_here"), () => {
    hideBanner();
    state.forcedAt = Date.now();
    socket.connect({ force: true });
  }, "warn");
});

on("staff_join_room", (d) => staffJoined(d && d.staff));
on("staff_being_added_to_chat", (d) => staffJoined(d && d.staff));

on("staff_leave", (d) => {
  const s = d && d.staff;
  if (!s) return;
  state.staff.delete(s.id);
  state.away.delete(s.id);
  addNote(t("left", { name: staffName(s) }));
  if (state.staff.size === 0) endChat(t("ended_by_agent"), false);
  render();
});

on("staff_being_removed_from_chat", (d) => {
  const s = d && d.staff;
  if (!s) return;
  state.staff.delete(s.id);
  state.away.delete(s.id);
  addNote(t("left", { name: staffName(s) }));
  if (state.staff.size === 0 && state.phase === "active") state.phase = "waiting";
  render();
});

on("staff_being_taken_over_chat", (d) => {
  const s = d && d.staff;
  if (!s) return;
  state.staff.clear();
  state.away.clear();
  state.staff.set(s.id, s);
  rememberStaff(s);
  addNote(t("taken_over", { name: staffName(s) }));
  state.phase = "active";
  render();
});

on("staff_away", (d) => {
  const s = d && d.staff;
  if (!s || !s.id) return;
  rememberStaff(s);
  state.away.add(s.id);
  announce(awayText());
  renderAway();
});

on("staff_back", (d) => {
  const s = d && d.staff;
  if (!s || !s.id) return;
  state.away.delete(s.id);
  renderAway();
});

on("staff_send", (d) => {
  const msg = d && asMessage(d.content, d.staff ? d.staff.id : null);
  if (!msg) return;
  if (d.staff && !state.staff.has(d.staff.id)) state.staff.set(d.staff.id, d.staff);
  if (d.staff) { rememberStaff(d.staff); state.away.delete(d.staff.id); }
  if (state.phase !== "active") state.phase = "active";
  hideTyping();
  // A gap (we missed something, or our own sends have no number yet): ask for what is missing.
  const gap = msg.chat_id && typeof msg.sequence_num === "number" && msg.sequence_num > cursor.last(msg.chat_id) + 1;
  if (msg.type_id === 1 || msg.type_id === 2) notice.clear();
  if (mergeMessages([msg]).length) {
    announce(t("says", { name: staffName(d.staff), text: spokenText(msg) }));
    if (!state.panelOpen || document.hidden) {
      state.unread += 1;
      postToHost({ type: "frontdesk:unread", count: state.unread });
      // One chime per visitor: from the visible tab, or from the leader when none is shown.
      if (!document.hidden || role === "leader") chime("message");
    }
  }
  if (gap) syncSoon();
  render();
});

on("user_typing_receive", (d) => {
  if (!d || !d.staff) return;
  ui.typingText.textContent = t("typing", { name: staffName(d.staff) });
  ui.typing.hidden = false;
  clearTimeout(state.typingShowTimer);
  state.typingShowTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
  scrollToEnd();
});
on("user_stop_typing_receive", (d) => { if (!d || d.staff) hideTyping(); });

on("queue_position", (d) => {
  if (!d) return;
  // The chat's id comes with the first queue position: from then on a reconnect can sync.
  if (typeof d.chat_id === "string" && !state.chatId) rememberChat(d.chat_id);
  state.queue = d;
  // In the live queue: somebody is available (the chat is not a left message any more).
  state.leftMessage = false;
  state.available = true;
  // An assigned agent who did not answer in time left (staff_leave), and the chat waits again.
  if (state.phase === "ended" && !state.endedByMe && typeof d.chat_id === "string" && d.chat_id === state.chatId) {
    state.phase = "waiting";
  }
  render();
});

// Nobody is available (product.md §8.5): the message is kept for the team, who reply by email.
on("no_staff_available", (d) => {
  setAvailability(false, d && d.opens_at);
  if (!state.leftMessage) announce(t("offline_title"));
  state.leftMessage = true;
  state.queue = null;
  render();
});

// The chat moved to another agent (product.md §8.4).
on("chat_transferred", (d) => {
  const to = d && d.to;
  if (!to || !to.id) return;
  if (d.from && d.from.id && d.from.id !== to.id) { state.staff.delete(d.from.id); state.away.delete(d.from.id); }
  state.staff.set(to.id, to);
  rememberStaff(to);
  state.phase = "active";
  state.leftMessage = false;
  state.queue = null;
  addNote(t("transferred", { to: staffName(to) }));
  render();
});

/**
 * Adds server messages (any order, any overlap) to the conversation: each once, in
 * sequence_num order, replacing the local copy of our own sends. Returns the new ones.
 */
function mergeMessages(messages) {
  const added = [];
  for (const m of messages) {
    if (!m || typeof m !== "object") continue;
    if (m.chat_id && !state.chatId) rememberChat(m.chat_id);
    if (m.chat_id && state.chatId && m.chat_id !== state.chatId) continue;
    if (m.type_id === 0) {
      // The stored system message stands in for the live note we showed for the same thing.
      const text = systemText(m);
      const i = state.notes.findIndex((n) => n.text === text);
      if (i >= 0) state.notes.splice(i, 1);
    }
    const att = m.sender == null && attachmentOf(m.content);
    if (att) state.list.items = state.list.items.filter((x) => !(x.local && x.attachmentId === att.id));
    if (state.list.add(m)) added.push(m);
  }
  cursor.seeMessages(messages);
  return added;
}

function rememberChat(chatId) {
  state.chatId = chatId;
  cursor.see(chatId, 0);
  try { localStorage.setItem(LAST_CHAT_KEY, JSON.stringify({ chat_id: chatId, at: Date.now() })); } catch { /* ignore */ }
}

let syncQueued = false;
/** The leader asks for what came after the last message it has (once at a time). */
function syncSoon() {
  if (role === "follower" || !state.chatId || syncQueued) return;
  syncQueued = true;
  setTimeout(() => {
    syncQueued = false;
    if (socket.isOpen && state.chatId) cursor.sync(state.chatId);
  }, 50);
}

function hideTyping() {
  clearTimeout(state.typingShowTimer);
  ui.typing.hidden = true;
}

function staffJoined(s) {
  if (!s) return;
  const known = state.staff.has(s.id);
  state.staff.set(s.id, s);
  rememberStaff(s);
  if (!known) addNote(t("joined", { name: staffName(s) }));
  state.phase = "active";
  state.leftMessage = false;
  state.queue = null;
  render();
}

function announce(text) {
  document.getElementById("sr-live").textContent = String(text).slice(0, 300);
}

function addNote(text) {
  announce(text);
  state.notes.push({ afterSeq: noteKey(), text, at: Date.now() });
}

/** A sort key just after everything the server has (our sends still on their way come later). */
function shownKey() {
  let k = 0;
  for (const m of state.list.items) {
    const key = m.local ? (m.status === "sent" ? m.afterSeq : null) : m.sequence_num;
    if (typeof key === "number" && isFinite(key)) k = Math.max(k, key);
  }
  return k;
}

function noteKey() {
  let k = shownKey() + 0.01;
  for (const n of state.notes) k = Math.max(k, n.afterSeq + 0.001);
  return k;
}

function endChat(text, byMe) {
  state.phase = "ended";
  state.endedByMe = !!byMe;
  state.leftMessage = false;
  state.staff.clear();
  state.away.clear();
  state.queue = null;
  ui.endedText.textContent = text;
  hideTyping();
  notice.clear();
  if (state.chatId || state.list.items.some((m) => !m.local)) rating.offer();
  if (byMe) addNote(t("you_ended"));
}

/** Empties the conversation (a new chat); `keepPending` keeps our sends not yet acked. */
function resetConversation(keepPending) {
  const pending = keepPending ? state.list.items.filter((m) => m.local && m.status !== "sent" && m.status !== "failed") : [];
  state.list.clear();
  pending.forEach((m) => state.list.items.push(m));
  state.notes = [];
  if (state.chatId) cursor.forget(state.chatId);
  state.chatId = null;
  state.away.clear();
  state.read = { visitor: 0, staff: 0 };
  state.readSent = 0;
  notice.clear();
  rating.reset();
}

/**
 * After a reload with no open chat: the conversation that ended last (within a day) stays
 * readable, from the history API, with "Start a new conversation".
 */
async function showEndedConversation() {
  let last = null;
  try { last = JSON.parse(localStorage.getItem(LAST_CHAT_KEY) || "null"); } catch { /* ignore */ }
  if (!last || typeof last.chat_id !== "string" || !state.session || Date.now() - (last.at || 0) > ENDED_KEEP_MS) return;
  try {
    const res = await fetch(`/api/v1/chats/${encodeURIComponent(last.chat_id)}/messages?limit=500`,
      { headers: { Authorization: state.session.token } });
    if (!res.ok) return;
    const page = await res.json();
    const msgs = Array.isArray(page.results) ? page.results : [];
    if (!msgs.length || state.phase !== "new" || state.list.items.length) return;
    msgs.forEach((m) => state.list.add(m));
    state.phase = "ended";
    ui.endedText.textContent = t("ended");
    rating.offer();
    render();
  } catch { /* offline: nothing to show */ }
}

// ---- sending -----------------------------------------------------------------------------------

async function submitMessage() {
  const text = ui.input.value.trim();
  if (!text) return;
  unlockAudio();
  if (contentBytes(text) > CONTENT_LIMIT) { composerError(t("too_long")); return; }
  const formShown = prechatShown();
  if (formShown && !validatePrechat()) return;
  if (state.session && formShown) {
    // A visitor we know, asked for details (the server's pre-chat form): visitor_update first.
    const body = prechatValues();
    if (Object.keys(body).length) {
      ui.send.disabled = true;
      try {
        await request("visitor_update", body);
        saveSession({ ...state.session, visitor: { ...state.session.visitor, ...body, is_anonymous: false } });
      } catch (e) {
        ui.pcError.textContent = e.message;
        ui.send.disabled = false;
        return;
      }
      ui.send.disabled = false;
    }
  }
  state.prechatRefused = "";
  if (!state.session) {
    ui.send.disabled = true;
    try {
      await createVisitor();
    } catch (e) {
      ui.pcError.textContent = e.message;
      ui.send.disabled = false;
      return;
    }
    ui.send.disabled = false;
    if (role === "follower") tabs.post({ type: "session" });
    else if (role === "leader") socket.connect();
  }
  ui.input.value = "";
  autoGrow();
  stopTyping();
  const fresh = state.phase === "ended" || state.phase === "new";
  if (fresh) {
    // A new chat: sequence numbers restart, so the old conversation leaves the screen.
    resetConversation(false);
    state.phase = "waiting";
  }
  const now = Date.now();
  const clientMsgId = newClientMsgId();
  showOwn(clientMsgId, { content: text, timestamp: now }, "queued", null, fresh);
  render();
  if (role === "follower") tabs.post({ type: "send", clientMsgId, content: { content: text, timestamp: now }, fresh });
  else if (role === "leader") queueSend(clientMsgId, { content: text, timestamp: now }, fresh);
  // (before the tabs have chosen a leader, onLeader / onFollower send it)
}

/** Leader: into the outbox once per client message id. */
function queueSend(clientMsgId, content, fresh) {
  const known = entries.get(clientMsgId);
  if (known) {
    sendStatus(clientMsgId, known.status, known.error, content, { fresh });
    return;
  }
  entries.set(clientMsgId, outbox.push("visitor_msg", content, { clientMsgId, meta: { fresh: !!fresh } }));
}

/** Leader: a send changed status; show it here and tell the other tabs. */
function sendStatus(clientMsgId, status, error, content, meta) {
  const fresh = !!(meta && meta.fresh);
  showOwn(clientMsgId, content, status, error, fresh);
  tabs.post({ type: "status", clientMsgId, status, error, content, fresh });
  if (status === "sent") { syncSoon(); notice.clear(); }
  render();
}

/**
 * Our own message as this tab shows it until the server's copy (with its sequence_num)
 * replaces it: added if this tab has not seen it (sent from another tab), else its status.
 */
function showOwn(clientMsgId, content, status, error, fresh) {
  let item = state.list.items.find((m) => m.local && m.clientMsgId === clientMsgId);
  if (!item) {
    if (!content || typeof content.content !== "string") return;
    const ts = content.timestamp;
    if (state.list.items.some((m) => !m.local && m.sender == null && m.content && m.content.timestamp === ts &&
      m.content.content === content.content)) return; // the server's copy is here already
    if (fresh && (state.phase === "ended" || state.phase === "new")) { resetConversation(true); state.phase = "waiting"; }
    const created = typeof ts === "number" ? ts : Date.now();
    item = state.list.addLocal({ id: null, chat_id: null, type_id: 1, sender: null, content, created_at: created }, 0);
    item.clientMsgId = clientMsgId;
    item.fresh = !!fresh;
    item.afterSeq = PENDING_KEY + (state.pendingCount++);
  }
  if (item.status === "sent" && status !== "sent") return; // a late echo of an earlier status
  const wasSent = item.status === "sent";
  if (status === "sent" && !wasSent) {
    // Acked: it is stored after everything we have from the server (and our earlier sends),
    // and after what the notes on screen announced (a join comes before what follows it).
    item.afterSeq = noteKey();
  }
  item.status = status;
  item.error = error || null;
  if (status !== "sent" && !wasSent && item.afterSeq < PENDING_KEY) item.afterSeq = PENDING_KEY + (state.pendingCount++);
  if (state.phase === "new" || state.phase === "ended") state.phase = "waiting";
  state.list.sort();
}

function retrySend(item) {
  if (role === "follower") {
    item.status = "queued";
    tabs.post({ type: "send", clientMsgId: item.clientMsgId, content: item.content, fresh: item.fresh });
    renderMessages();
    return;
  }
  const entry = entries.get(item.clientMsgId);
  item.afterSeq = PENDING_KEY + (state.pendingCount++);
  if (entry) outbox.retry(entry);
}

function validatePrechat() {
  ui.pcError.textContent = "";
  for (const n of [ui.pcName, ui.pcEmail]) n.removeAttribute("aria-invalid");
  const f = prechatFields();
  const fail = (input, key) => {
    ui.pcError.textContent = t(key);
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return false;
  };
  if (f.name === "required" && !ui.pcName.value.trim()) return fail(ui.pcName, "prechat_name_needed");
  if (f.email === "required" && !ui.pcEmail.value.trim()) return fail(ui.pcEmail, "prechat_email_needed");
  if (f.email !== "off" && ui.pcEmail.value.trim() && !ui.pcEmail.checkValidity()) return fail(ui.pcEmail, "prechat_email_invalid");
  return true;
}

/** What the form holds, for the fields it shows. */
function prechatValues() {
  const f = prechatFields();
  const body = {};
  const name = ui.pcName.value.trim();
  const email = ui.pcEmail.value.trim();
  if (f.name !== "off" && name) body.name = name;
  if (f.email !== "off" && email) body.email = email;
  return body;
}

// typing indicator (our side)
function onInputTyping() {
  autoGrow();
  if (state.connState !== "open" || !state.session || (state.phase !== "active" && state.phase !== "waiting")) return;
  const now = Date.now();
  if (ui.input.value.trim() && now - state.typingSentAt > TYPING_REPEAT_MS) {
    state.typingSentAt = now;
    request("user_typing_send", { visitor: state.session.visitor.id }).catch(() => {});
  }
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(state.typingIdleTimer);
  if (!state.typingSentAt) return;
  state.typingSentAt = 0;
  if (state.connState === "open" && state.session) {
    request("user_stop_typing_send", { visitor: state.session.visitor.id }).catch(() => {});
  }
}

function autoGrow() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
}

// ---- rendering ---------------------------------------------------------------------------------

function render() {
  const started = state.phase !== "new";
  renderPrechat();
  ui.endBtn.hidden = !(state.phase === "waiting" || state.phase === "active");
  ui.ended.hidden = state.phase !== "ended";
  // An ended conversation stays readable; writing again starts a new one from the button.
  const typing = document.activeElement === ui.input;
  ui.composer.hidden = state.phase === "ended";
  // The composer goes away under a keyboard user's hands: the way on is the button.
  if (state.phase === "ended" && typing) ui.newChat.focus();
  renderHeader();
  renderAway();
  renderOffline();
  renderWaiting();
  renderMessages();
  renderComposerExtras();
  tellLauncher();
  markRead();
}

// ---- nobody available (issue 13) ---------------------------------------------------------------

function setAvailability(available, opensAt) {
  state.available = !!available;
  state.opensAt = typeof opensAt === "number" && isFinite(opensAt) ? opensAt : null;
}

/** The "No one is available" notice: before writing when we know nobody is there, and after a message that went to the offline queue. */
function offlineShown() {
  if (state.phase === "new") return state.available === false;
  return state.phase === "waiting" && state.leftMessage;
}

function renderOffline() {
  const show = offlineShown();
  ui.offline.hidden = !show;
  if (!show) return;
  // Before the first message it comes first (above the pre-chat form); after it, below the messages.
  const before = state.phase === "new" ? ui.prechat : ui.waiting;
  if (ui.offline.nextElementSibling !== before) ui.log.insertBefore(ui.offline, before);
  const when = opensAtWords(state.opensAt);
  ui.offlineWhen.textContent = when;
  ui.offlineWhen.hidden = !when;
  // The contact form needs the visitor's session (visitor_update); before the first message the
  // pre-chat form asks the same.
  const visitor = state.session && state.session.visitor;
  const saved = visitor && visitor.email && !state.editingContact;
  ui.offlineText.textContent = state.phase === "new" ? t("offline_leave") : t(saved ? "offline_written_saved" : "offline_written");
  ui.contact.hidden = !visitor || !!saved;
  ui.ctSaved.hidden = !saved;
  if (saved) ui.ctSavedText.textContent = t("offline_saved", { email: visitor.email });
  if (visitor && !saved && document.activeElement !== ui.ctEmail && document.activeElement !== ui.ctName) {
    if (!ui.ctName.value && visitor.name && !visitor.is_anonymous) ui.ctName.value = visitor.name;
    if (!ui.ctEmail.value && visitor.email) ui.ctEmail.value = visitor.email;
  }
}

async function saveContact() {
  ui.ctError.textContent = "";
  ui.ctEmail.removeAttribute("aria-invalid");
  const name = ui.ctName.value.trim();
  const email = ui.ctEmail.value.trim();
  if (!email) return contactError(t("offline_email_needed"));
  if (!ui.ctEmail.checkValidity()) return contactError(t("offline_email_invalid"));
  const body = { email };
  if (name) body.name = name;
  ui.ctSave.disabled = true;
  ui.ctSave.textContent = t("offline_saving");
  try {
    await request("visitor_update", body);
    const s = state.session;
    if (s) saveSession({ ...s, visitor: { ...s.visitor, ...body, is_anonymous: false } });
    state.editingContact = false;
    tabs.post({ type: "contact", visitor: state.session && state.session.visitor });
    render();
    announce(t("offline_saved", { email }));
  } catch (e) {
    ui.ctError.textContent = e.message;
  } finally {
    ui.ctSave.disabled = false;
    ui.ctSave.textContent = t("offline_save");
  }
}

function contactError(text) {
  ui.ctError.textContent = text;
  ui.ctEmail.setAttribute("aria-invalid", "true");
  ui.ctEmail.focus();
}

/** Who is available, asked before any visitor exists (no session is created for it). */
async function checkAvailability() {
  try {
    const res = await fetch("/api/v1/availability");
    if (!res.ok) return;
    const a = await res.json();
    if (!a || typeof a !== "object") return;
    if (a.texts && typeof a.texts === "object") {
      setOverrides(a.texts);
      applyTexts();
      applyConfig();
      tellLabels();
    }
    setPrechat(a.prechat);
    // With a session, visitor_init tells whether anyone is there (for the chat we have).
    if (typeof a.available === "boolean" && (!state.session || hideWhenOffline || state.phase === "new")) setAvailability(a.available, a.opens_at);
    render();
  } catch { /* offline: the widget stays as it is */ }
}

/** The widget's launcher (data-hide-when-offline) shows when someone is available or a conversation is on. */
let launcherShown = null;
function tellLauncher() {
  if (!embedded || !hideWhenOffline) return;
  const show = state.available === true || state.phase !== "new" || state.unread > 0;
  if (show === launcherShown || state.available === null && state.phase === "new") return;
  launcherShown = show;
  postToHost({ type: "frontdesk:launcher", show });
}


function awayText() {
  const names = [...state.away].map((id) => nameOf(id)).filter(Boolean);
  if (names.length === 1) return t("away_one", { name: names[0] });
  return t("away");
}

function renderAway() {
  const show = state.away.size > 0 && state.phase === "active";
  ui.away.hidden = !show;
  if (show) ui.awayText.textContent = awayText();
}

function renderHeader() {
  const serving = [...state.staff.values()];
  if (state.phase === "active" && serving.length) {
    // Like Intercom: the agent's name up top, the team's name under it.
    const names = serving.map(staffName);
    ui.title.textContent = names.join(", ");
    ui.subtitle.textContent = configuredTitle;
    setChildren(ui.avatar, initialsOf(names[0]));
    ui.avatar.classList.add("has-agent");
  } else {
    ui.title.textContent = configuredTitle;
    ui.subtitle.textContent = offlineShown() ? t("offline_subtitle")
      : state.phase === "waiting" ? t("subtitle_waiting") : t("subtitle");
    ui.avatar.classList.remove("has-agent");
    if (!ui.avatar.querySelector("svg")) {
      ui.avatar.replaceChildren(chatIcon());
    }
  }
}

function initialsOf(name) {
  const p = String(name).trim().split(/\s+/);
  return ((p[0] || "?")[0] + (p.length > 1 ? p[p.length - 1][0] : "")).toUpperCase();
}

function chatIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "22"); svg.setAttribute("height", "22");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("fill", "currentColor");
  p.setAttribute("d", "M12 3C6.5 3 2 6.9 2 11.7c0 2.6 1.3 4.9 3.4 6.5L4.6 22l4.1-2.3c1 .3 2.1.4 3.3.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z");
  svg.appendChild(p);
  return svg;
}

function renderWaiting() {
  // Nobody available: no spinner and no place in a line that does not move (renderOffline).
  const waiting = state.phase === "waiting" && state.list.items.length > 0 && !offlineShown();
  ui.waiting.hidden = !waiting;
  if (!waiting) return;
  const q = state.queue;
  if (q && typeof q.position === "number" && q.position > 0) {
    // The estimate in words beside the position; nothing when the server cannot estimate it.
    const wait = waitWords(q.estimated_wait_seconds);
    ui.waitingDetail.textContent = q.position === 1
      ? t(wait ? "wait_next_eta" : "wait_next", { wait })
      : t(wait ? "wait_number_eta" : "wait_number", { position: q.position, wait });
  } else {
    ui.waitingDetail.textContent = t("waiting_keep");
  }
}

function renderMessages() {
  const rows = [];
  const items = state.list.items;
  const notes = [...state.notes];
  const keyOf = (m) => (m.local ? m.afterSeq : (m.sequence_num ?? Infinity));
  let prevSender;
  let lastNote = null;
  const lastOwn = [...items].reverse().find((m) => m.sender == null && m.type_id !== 0);
  // "Seen" goes under the last of our messages staff have read (message_seen, visitor_init.read).
  const lastSeen = state.read.staff > 0 ? [...items].reverse().find((m) => !m.local && m.sender == null &&
    (m.type_id === 1 || m.type_id === 2) && typeof m.sequence_num === "number" && m.sequence_num <= state.read.staff) : null;
  for (const m of items) {
    while (notes.length && notes[0].afterSeq < keyOf(m)) rows.push(noteRow(notes.shift().text));
    if (m.type_id === 0) {
      const text = systemText(m);
      // "joined" said twice in a row (a routed chat stores "assigned" and "join room") is said once.
      if (text && text !== lastNote) rows.push(noteRow(text, m.created_at));
      if (text) lastNote = text;
      prevSender = undefined;
      continue;
    }
    lastNote = null;
    const mine = m.sender == null;
    const text = contentText(m.content);
    const showName = !mine && m.sender !== prevSender;
    prevSender = m.sender;
    const senderName = mine ? null : nameOf(m.sender);
    const meta = el("span", { class: "meta" },
      el("time", { datetime: new Date(toMs(m.created_at)).toISOString(), title: formatFull(m.created_at) }, formatTime(m.created_at)),
      m === lastSeen ? el("span", { class: "status seen" }, ` · ${t("status_seen")}`)
        : mine && (m === lastOwn || (m.local && m.status !== "sent")) ? statusText(m) : null);
    const att = attachmentOf(m.content);
    const body = m.uploading ? el("span", { class: "uploading" }, el("span", { class: "spinner spinner-sm", "aria-hidden": "true" }),
      t("file_uploading", { name: m.uploading }))
      : att ? attachmentNode(att) : linkify(text);
    const bubble = el("div", { class: `bubble ${mine ? "bubble-me" : "bubble-staff"}${att || m.uploading ? " bubble-file" : ""}` }, body);
    const row = el("li", { class: `msg ${mine ? "msg-me" : "msg-staff"}${m.status === "failed" || m.status === "queued" ? " msg-failed" : ""}` },
      showName ? el("span", { class: "sender" }, senderName || t("support")) : null,
      el("span", { class: "sr-only" }, mine ? t("you_said") : t("agent_said", { name: senderName || t("support") }), " "),
      bubble, meta);
    if (m.status === "failed") {
      row.appendChild(el("button", { type: "button", class: "retry", onclick: () => { retrySend(m); renderMessages(); } }, t("retry")));
    }
    rows.push(row);
  }
  notes.forEach((n) => rows.push(noteRow(n.text)));
  setChildren(ui.messages, rows);
  if (state.stick || items.some((m) => m.local && m.status === "sending")) scrollToEnd();
}

function statusText(m) {
  if (!m.local) return el("span", { class: "status" }, ` · ${t("status_sent")}`); // the server's copy: stored
  const key = { sending: "status_sending", sent: "status_sent", queued: "status_queued" }[m.status];
  return key ? el("span", { class: "status" }, ` · ${t(key)}`) : null;
}

function systemText(m) {
  const c = contentText(m.content).toLowerCase();
  const o = m.content && typeof m.content === "object" ? m.content : {};
  const who = (m.sender && nameOf(m.sender)) || (typeof o.name === "string" && o.name) || t("an_agent");
  // Routing (issue 13), as the visitor lives it: someone joined, left, or took the chat over.
  if (c === "assigned") return t("joined", { name: who });
  if (c === "assign_timeout" || c === "assign_declined") return t("left", { name: who });
  if (c === "assign_gave_up") return "";
  if (c === "transfer") {
    const to = (typeof o.to_name === "string" && o.to_name) || (o.to && nameOf(o.to)) || t("an_agent");
    return t("transferred", { to });
  }
  if (c === "join room") return t("joined", { name: who });
  if (c === "take over room") return t("taken_over", { name: who });
  if (c === "leave room") return t("left", { name: who });
  if (c === "closed inactive") return t("ended_inactive");
  return contentText(m.content);
}

function noteRow(text, at) {
  return el("li", { class: "note" }, el("span", null, text, at ? ` · ${formatTime(at)}` : ""));
}

function scrollToEnd() {
  // Now, and once more after the next layout (a status line or the typing row may still grow it).
  state.stick = true;
  ui.log.scrollTop = ui.log.scrollHeight;
  requestAnimationFrame(() => { if (state.stick) ui.log.scrollTop = ui.log.scrollHeight; });
}

// ---- banner (connection state, other tab) ------------------------------------------------------

function renderBanner() {
  clearTimeout(state.bannerTimer);
  const s = state.connState;
  if (s === "open") { hideBanner(); return; }
  if (s === "unauthorized") {
    // The visitor token expired or was revoked: start over as a new visitor.
    saveSession(null);
    state.phase = state.list.items.length ? "ended" : "new";
    if (state.phase === "ended") ui.endedText.textContent = t("session_expired");
    hideBanner();
    render();
    return;
  }
  if (s === "reconnecting") {
    // The chat waits for us on the server for minutes and we retry every few seconds: a short
    // outage passes without a word, a longer one says only that we are on it.
    const offline = navigator.onLine === false;
    const quietFor = state.droppedAt + QUIET_OUTAGE_MS - Date.now();
    if (!offline && quietFor > 0) {
      state.bannerTimer = setTimeout(renderBanner, quietFor + 20);
      return;
    }
    showBanner(offline ? t("offline_link") : t("reconnecting"), null, null, "info");
    return;
  }
  if (s === "connecting") {
    // Only worth a banner if it takes a while.
    state.bannerTimer = setTimeout(() => {
      if (state.connState === "connecting") showBanner(t("connecting"), null, null, "info");
    }, 1500);
  }
}

function showBanner(text, actionLabel, action, kind) {
  ui.banner.className = `banner banner-${kind || "info"}`;
  ui.bannerText.textContent = text;
  ui.bannerAction.hidden = !actionLabel;
  ui.bannerAction.textContent = actionLabel || "";
  ui.bannerAction.onclick = action || null;
  ui.banner.hidden = false;
}

function hideBanner() { ui.banner.hidden = true; }

// ---- host page (widget) messages ---------------------------------------------------------------

function postToHost(msg) {
  if (!embedded) {
    document.title = state.unread ? `(${state.unread}) ${configuredTitle}` : configuredTitle;
    return;
  }
  window.parent.postMessage(msg, hostOrigin || "*");
}

window.addEventListener("message", (ev) => {
  if (!embedded || ev.source !== window.parent) return;
  if (hostOrigin && ev.origin !== hostOrigin) return;
  const d = ev.data;
  if (!d || typeof d.type !== "string") return;
  if (d.type === "frontdesk:page") {
    hostPageSeen(d);
  } else if (d.type === "frontdesk:open") {
    state.panelOpen = true;
    clearUnread();
    markRead();
    setTimeout(() => ui.input.focus(), 50);
    scrollToEnd();
  } else if (d.type === "frontdesk:close") {
    state.panelOpen = false;
  }
});

function clearUnread() {
  if (state.unread === 0) return;
  state.unread = 0;
  postToHost({ type: "frontdesk:unread", count: 0 });
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.panelOpen) { clearUnread(); markRead(); }
  // The leader retries by itself when shown; a follower shown asks it to retry now.
  if (!document.hidden && role === "follower" && state.connState === "reconnecting") tabs.post({ type: "retry" });
});

// ---- issue 14: attachments, read receipts, inactivity, rating, page context, pre-chat ----------

const notice = inactivityNotice(ui.notice);
const rating = ratingForm(ui.rating, (value, comment) => request("rate_chat", comment ? { rating: value, comment } : { rating: value }), announce);

on("chat_timeout_warning", (d) => {
  if (!d || (state.phase !== "active" && state.phase !== "waiting")) return;
  notice.warn(d.seconds_left);
});

on("chat_closed_inactive", () => {
  if (state.phase === "ended") return;
  stopTyping();
  endChat(t("ended_inactive"), false);
  announce(t("ended_inactive"));
  render();
});

on("message_seen", (d) => {
  if (!d || typeof d.sequence_num !== "number") return;
  if (d.reader) setRead({ staff: d.sequence_num });
  else setRead({ visitor: d.sequence_num }); // our own read, from another tab
  renderMessages();
});

function setRead(r) {
  if (!r || typeof r !== "object") return;
  if (typeof r.staff === "number") state.read.staff = Math.max(state.read.staff, r.staff);
  if (typeof r.visitor === "number") state.read.visitor = Math.max(state.read.visitor, r.visitor);
}

/** Tells the server we read up to the newest staff message, while the panel is open and shown. */
function markRead() {
  if (!state.panelOpen || document.hidden || !state.session || state.connState !== "open") return;
  if (state.phase !== "active" && state.phase !== "waiting") return;
  let seq = 0;
  for (const m of state.list.items) {
    if (!m.local && m.sender != null && (m.type_id === 1 || m.type_id === 2) && typeof m.sequence_num === "number") seq = Math.max(seq, m.sequence_num);
  }
  if (seq <= Math.max(state.readSent, state.read.visitor)) return;
  state.readSent = seq;
  request("message_read", { sequence_num: seq }).then(() => setRead({ visitor: seq }), () => {
    if (state.readSent === seq) state.readSent = state.read.visitor;
  });
}

// Attachments: thumbnails and cards are kept per attachment (an image loads once).
const attachmentViews = new Map();
function attachmentNode(a) {
  const key = a.id || a.url;
  let n = attachmentViews.get(key);
  if (!n) { n = attachmentView(a, state.session && state.session.token); attachmentViews.set(key, n); }
  return n;
}

function spokenText(msg) {
  const a = attachmentOf(msg.content);
  return a ? (typeof a.name === "string" ? a.name : "") : contentText(msg.content);
}

function canUpload() {
  return !!(state.session && state.chatId && (state.phase === "waiting" || state.phase === "active") && role !== "none");
}

let uploadSeq = 0;
setupAttachments({
  button: ui.attach, input: ui.fileInput, dropzone: ui.dropzone, root: ui.app, textarea: ui.input,
  token: () => state.session && state.session.token,
  chatId: () => state.chatId,
  canUpload: () => {
    if (canUpload()) return true;
    composerError(t("attach_later"));
    return false;
  },
  onStart: (file) => {
    composerError("");
    const item = state.list.addLocal({ id: null, chat_id: state.chatId, type_id: 2, sender: null, content: {}, created_at: Date.now() }, 0);
    item.uploadId = `up-${++uploadSeq}`;
    item.uploading = file.name || "file";
    item.status = "sending";
    item.afterSeq = PENDING_KEY + (state.pendingCount++);
    render();
    scrollToEnd();
    return item.uploadId;
  },
  onDone: (id, chatId, attachment) => {
    const item = state.list.items.find((m) => m.uploadId === id);
    if (item && !state.list.items.some((m) => !m.local && attachmentOf(m.content)?.id === attachment.id)) {
      item.uploading = null;
      item.content = { attachment };
      item.attachmentId = attachment.id;
      item.status = "sent";
      item.afterSeq = noteKey();
      state.list.sort();
    } else if (item) {
      state.list.items = state.list.items.filter((m) => m !== item);
    }
    notice.clear();
    syncSoon();
    render();
  },
  onFail: (id, file, message) => {
    state.list.items = state.list.items.filter((m) => m.uploadId !== id);
    composerError(t("file_failed", { name: file.name || "file", error: message }));
    render();
  },
});

/** The visible line above the composer (too long, upload refused); "" hides it. */
let composerErrorTimer = null;
function composerError(text) {
  clearTimeout(composerErrorTimer);
  ui.composerError.textContent = text;
  ui.composerError.hidden = !text;
  if (text) composerErrorTimer = setTimeout(() => composerError(""), 12000);
}

function renderComposerExtras() {
  const ok = canUpload();
  ui.attach.setAttribute("aria-disabled", String(!ok));
  ui.attach.classList.toggle("is-disabled", !ok);
  ui.attachHint.textContent = ok ? "" : t("attach_later");
  ui.attach.title = ok ? t("attach") : t("attach_later");
}

/** Bytes of the content JSON a message with this text would send (the server's limit counts them). */
function contentBytes(text) {
  return new TextEncoder().encode(JSON.stringify({ content: text, timestamp: Date.now() })).length;
}

ui.input.addEventListener("paste", (e) => {
  const text = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
  if (!text) return;
  const v = ui.input.value;
  const next = v.slice(0, ui.input.selectionStart) + text + v.slice(ui.input.selectionEnd);
  if (contentBytes(next.trim()) > CONTENT_LIMIT) {
    e.preventDefault();
    composerError(t("paste_too_long"));
  }
});

// Visitor context: the host page the widget is on (frontdesk:page), sent once per page view.
function hostPageSeen(d) {
  const url = typeof d.url === "string" ? d.url : "";
  let u;
  try { u = new URL(url); } catch { return; }
  if (!/^https?:$/.test(u.protocol) || url.length > 2048) return;
  if (embedded && hostOrigin && u.origin !== hostOrigin) return;
  let ref = typeof d.referrer === "string" ? d.referrer : "";
  if (ref && (!/^https?:\/\//i.test(ref) || ref.length > 2048)) ref = "";
  state.hostPage = { url, title: typeof d.title === "string" ? d.title.slice(0, 300) : "", referrer: ref };
  sendPage();
}

function sendPage() {
  const p = state.hostPage;
  if (!p || !state.session || state.connState !== "open" || state.pageSent === p) return;
  state.pageSent = p;
  let tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch { /* old browser */ }
  const data = { url: p.url, title: p.title, referrer: p.referrer };
  if (navigator.language) data.language = navigator.language.slice(0, 35);
  if (tz && tz.length <= 64) data.time_zone = tz;
  if (navigator.userAgent) data.user_agent = navigator.userAgent.slice(0, 512);
  request("visitor_page", data).catch(() => { if (state.pageSent === p) state.pageSent = null; });
}

// The pre-chat form: the server's setting (availability, visitor_init), else the page's data-prechat.
const MODES = ["off", "optional", "required"];
function setPrechat(p) {
  if (!p || typeof p !== "object" || typeof p.enabled !== "boolean") return;
  state.prechat = { enabled: p.enabled, name: MODES.includes(p.name) ? p.name : "optional", email: MODES.includes(p.email) ? p.email : "optional" };
}

function prechatFields() {
  if (state.prechat && state.prechat.enabled) return { name: state.prechat.name, email: state.prechat.email };
  return { name: hostPrechat, email: hostPrechat };
}

function missingRequired() {
  const v = (state.session && state.session.visitor) || {};
  const f = prechatFields();
  const out = [];
  if (f.name === "required" && (!v.name || v.is_anonymous)) out.push("name");
  if (f.email === "required" && !v.email) out.push("email");
  return out;
}

function prechatShown() {
  const f = prechatFields();
  if (f.name === "off" && f.email === "off") return false;
  if (state.prechatRefused) return true;
  if (state.phase !== "new") return false;
  return !state.session || missingRequired().length > 0;
}

function renderPrechat() {
  const show = prechatShown();
  ui.prechat.hidden = !show;
  if (!show) return;
  const f = prechatFields();
  const anyRequired = f.name === "required" || f.email === "required";
  $("prechat-optional").hidden = anyRequired;
  for (const [input, mode, req] of [[ui.pcName, f.name, $("pc-name-req")], [ui.pcEmail, f.email, $("pc-email-req")]]) {
    input.hidden = mode === "off";
    input.labels[0].hidden = mode === "off";
    input.required = mode === "required";
    input.setAttribute("aria-required", String(mode === "required"));
    req.textContent = mode === "required" ? ` ${t("prechat_required")}` : "";
  }
  if (state.prechatRefused && !ui.pcError.textContent) ui.pcError.textContent = state.prechatRefused;
}

/** The server refused a first message for the form: the message goes back into the composer. */
function prechatRefused(clientMsgId, message) {
  state.prechatRefused = message || t("prechat_refused");
  setTimeout(() => {
    const item = state.list.items.find((m) => m.local && m.clientMsgId === clientMsgId);
    if (item) {
      state.list.items = state.list.items.filter((m) => m !== item);
      if (!ui.input.value && item.content && typeof item.content.content === "string") ui.input.value = item.content.content;
    }
    if (!state.list.items.length) state.phase = "new";
    ui.pcError.textContent = state.prechatRefused;
    render();
    (prechatFields().email === "required" ? ui.pcEmail : ui.pcName).focus();
  }, 0);
}

/** The launcher's labels (the widget has them in four languages; the server may override them). */
function tellLabels() {
  if (!embedded) return;
  const labels = {};
  for (const k of ["launcher_open", "launcher_close", "launcher_unread"]) if (hasOverride(k)) labels[k] = t(k);
  if (Object.keys(labels).length) postToHost({ type: "frontdesk:labels", labels });
}

// Keyboard: in the open panel Tab and Shift+Tab stay inside (the launcher is outside the frame).
document.addEventListener("keydown", (e) => {
  if (e.key !== "Tab" || !embedded || !state.panelOpen || ui.confirmEnd.open) return;
  const all = [...document.querySelectorAll("button, a[href], input, textarea, select, [tabindex]")]
    .filter((n) => n.tabIndex >= 0 && !n.disabled && n.getClientRects().length > 0);
  if (!all.length) return;
  const first = all[0];
  const last = all[all.length - 1];
  if (e.shiftKey && (document.activeElement === first || document.activeElement === document.body)) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
});

// ---- wiring ------------------------------------------------------------------------------------

ui.composer.addEventListener("submit", (e) => { e.preventDefault(); submitMessage(); });
ui.input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitMessage(); }
});
ui.input.addEventListener("input", onInputTyping);
ui.log.addEventListener("scroll", () => {
  // A hidden panel (widget closed) has no layout: it tells nothing about where the reader is.
  if (ui.log.clientHeight === 0) return;
  state.stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
}, { passive: true });
ui.input.addEventListener("blur", stopTyping);
ui.minimize.addEventListener("click", () => { state.panelOpen = false; postToHost({ type: "frontdesk:close" }); });
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && embedded && !ui.confirmEnd.open) { state.panelOpen = false; postToHost({ type: "frontdesk:close" }); }
});
ui.endBtn.addEventListener("click", () => ui.confirmEnd.showModal());
ui.confirmEnd.addEventListener("close", async () => {
  if (ui.confirmEnd.returnValue !== "end") return;
  try {
    await request("visitor_leave_room", null);
    stopTyping();
    endChat(t("ended_by_you"), true);
    tabs.post({ type: "ended-by-visitor" });
  } catch (e) {
    showBanner(e.message, null, null, "error");
    state.bannerTimer = setTimeout(renderBanner, 4000);
  }
  render();
});
ui.newChat.addEventListener("click", () => {
  startOver();
  tabs.post({ type: "new-conversation" });
  ui.input.focus();
});

function startOver() {
  resetConversation(true);
  state.phase = state.list.items.length ? "waiting" : "new";
  try { localStorage.removeItem(LAST_CHAT_KEY); } catch { /* ignore */ }
  render();
}
document.addEventListener("pointerdown", unlockAudio, { once: true });

ui.contact.addEventListener("submit", (e) => { e.preventDefault(); saveContact(); });
ui.ctEmail.addEventListener("input", () => {
  if (!ui.ctEmail.hasAttribute("aria-invalid")) return;
  ui.ctEmail.removeAttribute("aria-invalid");
  ui.ctError.textContent = "";
});
ui.ctChange.addEventListener("click", () => {
  state.editingContact = true;
  render();
  ui.ctEmail.focus();
});

applyTexts();
applyConfig();
render();
// The page asks whether anyone is there (no visitor is created for it), the server's pre-chat
// form and its texts.
checkAvailability();
if (hideWhenOffline) setInterval(() => { if (state.phase === "new") checkAvailability(); }, AVAILABILITY_POLL_MS);
tabs.start(); // the leader tab connects (onLeader); the others follow it
if (embedded) { postToHost({ type: "frontdesk:ready" }); tellLabels(); } else hostPageSeen({ url: location.href, title: document.title, referrer: document.referrer });
if (!embedded) ui.input.focus();
