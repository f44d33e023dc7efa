// The visitor chat: standalone at /chat/ and inside the widget's iframe (?embed=1).
// Talks to /ws as a visitor (product.md §4, §6). All user text is rendered with textContent.

import { LiveSocket, MessageList, describeState, asMessage, justReloaded } from "/shared/ws.js";
import { el, setChildren, formatTime, formatFull, formatWait, contentText, staffName, richText,
  errorMessage, unlockAudio, chime, toMs } from "/shared/format.js";

const STORE_KEY = "frontdesk.visitor";
const NAMES_KEY = "frontdesk.visitor.staff_names";
const TYPING_IDLE_MS = 2500;
const TYPING_REPEAT_MS = 4000;
const TYPING_SHOW_MS = 8000;

const params = new URLSearchParams(location.search);
const embedded = params.get("embed") === "1" && window.parent !== window;
const hostOrigin = safeOrigin(params.get("host"));
const prechatMode = ["off", "optional", "required"].includes(params.get("prechat")) ? params.get("prechat") : "optional";

const $ = (id) => document.getElementById(id);
const ui = {
  app: $("app"), title: $("title"), subtitle: $("subtitle"), avatar: $("head-avatar"),
  endBtn: $("end-chat"), minimize: $("minimize"), banner: $("banner"), bannerText: $("banner-text"),
  bannerAction: $("banner-action"), log: $("log"), intro: $("intro"), greeting: $("greeting"),
  prechat: $("prechat"), pcName: $("pc-name"), pcEmail: $("pc-email"), pcError: $("prechat-error"),
  messages: $("messages"), waiting: $("waiting"), waitingDetail: $("waiting-detail"),
  ended: $("ended"), endedText: $("ended-text"), newChat: $("new-chat"), typing: $("typing"),
  typingText: $("typing-text"), composer: $("composer"), input: $("input"), send: $("send"),
  confirmEnd: $("confirm-end"),
};

const state = {
  session: loadSession(),     // {token, expires_at, visitor}
  phase: "new",               // new | waiting | active | ended
  staff: new Map(),           // id -> staff serving this chat
  names: loadNames(),         // id -> name of every staff seen (history after a reload)
  list: new MessageList(),
  notes: [],                  // system notes shown between messages: {afterSeq, text, at}
  queue: null,                // {position, estimated_wait_seconds}
  unread: 0,
  panelOpen: !embedded,
  connState: "idle",
  connInfo: {},
  initSeen: false,
  waiters: [],                // resolve() callbacks for "visitor_init received"
  typingSentAt: 0,
  typingIdleTimer: null,
  typingShowTimer: null,
  bannerTimer: null,
  stick: true,                // keep the log scrolled to the newest message (false once the reader scrolls up)
};

function safeOrigin(s) {
  try { return s ? new URL(s).origin : null; } catch { return null; }
}

// ---- configuration from the query (the widget's data- attributes) -----------------------------

let configuredTitle = "Chat with us";

function applyConfig() {
  const title = params.get("title");
  if (title) { configuredTitle = title.slice(0, 80); document.title = configuredTitle; }
  ui.title.textContent = configuredTitle;
  const greeting = params.get("greeting");
  if (greeting) ui.greeting.textContent = greeting.slice(0, 500);
  const color = params.get("color");
  if (color && CSS.supports("color", color)) {
    const root = document.documentElement.style;
    root.setProperty("--accent", color);
    root.setProperty("--accent-text", readableOn(color));
  }
  if (prechatMode === "off") ui.prechat.hidden = true;
  if (prechatMode === "required") {
    $("prechat-optional").textContent = "(required)";
    ui.pcName.required = true;
    ui.pcEmail.required = true;
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
  const body = {};
  const name = ui.pcName.value.trim();
  const email = ui.pcEmail.value.trim();
  if (name) body.name = name;
  if (email) body.email = email;
  const res = await fetch("/api/v1/visitors", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(await errorMessage(res, "We could not start the chat. Please try again."));
  const data = await res.json();
  saveSession({ token: data.access_token, expires_at: data.expires_at || null, visitor: data.visitor });
}

// ---- the connection ----------------------------------------------------------------------------

const socket = new LiveSocket({
  token: () => state.session && state.session.token,
  onState: (s, info) => { state.connState = s; state.connInfo = info; renderBanner(); },
  checkAuth: async () => {
    const res = await fetch("/api/v1/me", { headers: { Authorization: state.session.token } });
    if (res.status === 401) return false;
    return true;
  },
});

socket.on("visitor_init", (data) => {
  data = data || {};
  // product.md says `contents`; the seed says `content`.
  const raw = Array.isArray(data.contents) ? data.contents : (Array.isArray(data.content) ? data.content : []);
  const contents = raw.map((m) => asMessage(m)).filter(Boolean);
  const hadConversation = state.list.items.some((m) => !m.local);
  state.staff.clear();
  if (data.staff) { state.staff.set(data.staff.id, data.staff); rememberStaff(data.staff); }
  // The server's copy is authoritative: keep only our sends it has not acknowledged yet.
  const unsent = state.list.items.filter((m) => m.local && m.status !== "sent");
  state.list.clear();
  if (contents.length === 0 && hadConversation && state.phase !== "ended") {
    // The chat closed while we were away.
    endChat("This chat has ended.", false);
  } else if (contents.length > 0) {
    // The server's system messages ("join room", …) stand in for our live notes.
    state.notes = [];
    contents.forEach((m) => state.list.add(m));
    state.phase = state.staff.size ? "active" : "waiting";
  } else if (state.phase !== "ended") {
    state.phase = "new";
  }
  unsent.forEach((m) => state.list.items.push(m));
  state.list.sort();
  state.initSeen = true;
  state.waiters.splice(0).forEach((fn) => fn());
  render();
  flushOutbox();
});

const reloaded = justReloaded();
let autoForced = false;
socket.on("visitor_room_exists", () => {
  socket.stop();
  if (reloaded && !autoForced && !state.initSeen) {
    // The page before this reload still holds the session on the server: take it back.
    autoForced = true;
    socket.connect({ force: true });
    return;
  }
  showBanner("This chat is open in another tab or window.", "Use it here", () => {
    hideBanner();
    socket.connect({ force: true });
  }, "warn");
});

socket.on("staff_join_room", (d) => staffJoined(d && d.staff, "joined the chat"));
socket.on("staff_being_added_to_chat", (d) => staffJoined(d && d.staff, "joined the chat"));

socket.on("staff_leave", (d) => {
  const s = d && d.staff;
  if (!s) return;
  state.staff.delete(s.id);
  addNote(`${staffName(s)} left the chat`);
  if (state.staff.size === 0) endChat("The agent has closed this chat.", false);
  render();
});

socket.on("staff_being_removed_from_chat", (d) => {
  const s = d && d.staff;
  if (!s) return;
  state.staff.delete(s.id);
  addNote(`${staffName(s)} left the chat`);
  if (state.staff.size === 0 && state.phase === "active") state.phase = "waiting";
  render();
});

socket.on("staff_being_taken_over_chat", (d) => {
  const s = d && d.staff;
  if (!s) return;
  state.staff.clear();
  state.staff.set(s.id, s);
  rememberStaff(s);
  addNote(`${staffName(s)} has taken over the chat`);
  state.phase = "active";
  render();
});

socket.on("staff_send", (d) => {
  const msg = d && asMessage(d.content, d.staff ? d.staff.id : null);
  if (!msg) return;
  if (d.staff && !state.staff.has(d.staff.id)) state.staff.set(d.staff.id, d.staff);
  if (d.staff) rememberStaff(d.staff);
  if (state.phase !== "active") state.phase = "active";
  hideTyping();
  if (state.list.add(msg)) {
    announce(`${staffName(d.staff)} says: ${contentText(msg.content)}`);
    if (!state.panelOpen || document.hidden) {
      state.unread += 1;
      postToHost({ type: "frontdesk:unread", count: state.unread });
      chime("message");
    }
  }
  render();
});

socket.on("user_typing_receive", (d) => {
  if (!d || !d.staff) return;
  ui.typingText.textContent = `${staffName(d.staff)} is typing…`;
  ui.typing.hidden = false;
  clearTimeout(state.typingShowTimer);
  state.typingShowTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
  scrollToEnd();
});
socket.on("user_stop_typing_receive", (d) => { if (!d || d.staff) hideTyping(); });

socket.on("queue_position", (d) => {
  if (!d) return;
  state.queue = d;
  renderWaiting();
});

function hideTyping() {
  clearTimeout(state.typingShowTimer);
  ui.typing.hidden = true;
}

function staffJoined(s, verb) {
  if (!s) return;
  const known = state.staff.has(s.id);
  state.staff.set(s.id, s);
  rememberStaff(s);
  if (!known) addNote(`${staffName(s)} ${verb}`);
  state.phase = "active";
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

function noteKey() {
  let k = state.list.nextKey();
  for (const n of state.notes) k = Math.max(k, n.afterSeq + 0.001);
  return k;
}

function endChat(text, byMe) {
  state.phase = "ended";
  state.staff.clear();
  state.queue = null;
  ui.endedText.textContent = text;
  hideTyping();
  if (byMe) addNote("You ended the chat");
}

/** Waits for the first visitor_init after connecting (or fails after a while). */
function whenReady(timeout = 15000) {
  if (state.initSeen && socket.isOpen) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("We could not reach the chat server. Please try again.")), timeout);
    state.waiters.push(() => { clearTimeout(t); resolve(); });
  });
}

// ---- sending -----------------------------------------------------------------------------------

async function submitMessage() {
  const text = ui.input.value.trim();
  if (!text) return;
  unlockAudio();
  if (!state.session) {
    if (!validatePrechat()) return;
    ui.send.disabled = true;
    try {
      await createVisitor();
      state.initSeen = false;
      socket.connect();
      await whenReady();
    } catch (e) {
      ui.pcError.textContent = e.message;
      ui.send.disabled = false;
      return;
    }
    ui.send.disabled = false;
  }
  ui.input.value = "";
  autoGrow();
  stopTyping();
  if (state.phase === "ended" || state.phase === "new") {
    // A new chat: sequence numbers restart, so the old conversation leaves the screen.
    state.list.clear();
    state.notes = [];
    state.phase = "waiting";
  }
  const now = Date.now();
  const item = state.list.addLocal({
    id: null, chat_id: null, type_id: 1, sender: null,
    content: { content: text, timestamp: now }, created_at: now, status: "sending",
  }, noteKey());
  render();
  deliver(item);
}

function deliver(item) {
  item.status = "sending";
  socket.send("visitor_msg", item.content).then(() => {
    item.status = "sent";
    renderMessages();
  }, (err) => {
    item.status = err.kind === "refused" ? "failed" : "queued";
    item.error = err.message;
    renderMessages();
  });
}

/** After a reconnect, sends what was typed while offline, in order. */
function flushOutbox() {
  for (const m of state.list.items) if (m.local && m.status === "queued") deliver(m);
}

function validatePrechat() {
  ui.pcError.textContent = "";
  if (prechatMode !== "required" || ui.prechat.hidden) {
    if (ui.pcEmail.value && !ui.pcEmail.checkValidity()) {
      ui.pcError.textContent = "Please check the email address.";
      ui.pcEmail.focus();
      return false;
    }
    return true;
  }
  if (!ui.pcName.value.trim()) { ui.pcError.textContent = "Please tell us your name."; ui.pcName.focus(); return false; }
  if (!ui.pcEmail.value.trim() || !ui.pcEmail.checkValidity()) {
    ui.pcError.textContent = "Please enter a valid email address."; ui.pcEmail.focus(); return false;
  }
  return true;
}

// typing indicator (our side)
function onInputTyping() {
  autoGrow();
  if (!socket.isOpen || !state.session || (state.phase !== "active" && state.phase !== "waiting")) return;
  const now = Date.now();
  if (ui.input.value.trim() && now - state.typingSentAt > TYPING_REPEAT_MS) {
    state.typingSentAt = now;
    socket.send("user_typing_send", { visitor: state.session.visitor.id }).catch(() => {});
  }
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(state.typingIdleTimer);
  if (!state.typingSentAt) return;
  state.typingSentAt = 0;
  if (socket.isOpen && state.session) {
    socket.send("user_stop_typing_send", { visitor: state.session.visitor.id }).catch(() => {});
  }
}

function autoGrow() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
}

// ---- rendering ---------------------------------------------------------------------------------

function render() {
  const started = state.phase !== "new";
  ui.prechat.hidden = started || !!state.session || prechatMode === "off";
  ui.endBtn.hidden = !(state.phase === "waiting" || state.phase === "active");
  ui.ended.hidden = state.phase !== "ended";
  renderHeader();
  renderWaiting();
  renderMessages();
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
    ui.subtitle.textContent = state.phase === "waiting" ? "Waiting for an agent" : "We typically reply in a few minutes";
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
  const waiting = state.phase === "waiting" && state.list.items.length > 0;
  ui.waiting.hidden = !waiting;
  if (!waiting) return;
  const q = state.queue;
  if (q && typeof q.position === "number" && q.position > 0) {
    const wait = formatWait(q.estimated_wait_seconds);
    ui.waitingDetail.textContent = q.position === 1
      ? `You're next in line${wait ? ` · ${wait}` : ""}.`
      : `You're number ${q.position} in line${wait ? ` · ${wait}` : ""}.`;
  } else {
    ui.waitingDetail.textContent = "We'll be with you shortly. You can keep writing.";
  }
}

function renderMessages() {
  const rows = [];
  const items = state.list.items;
  const notes = [...state.notes];
  const keyOf = (m) => (m.local ? m.afterSeq : (m.sequence_num ?? Infinity));
  let prevSender;
  const lastOwn = [...items].reverse().find((m) => m.sender == null && m.type_id !== 0);
  for (const m of items) {
    while (notes.length && notes[0].afterSeq < keyOf(m)) rows.push(noteRow(notes.shift().text));
    if (m.type_id === 0) {
      const t = systemText(m);
      if (t) rows.push(noteRow(t, m.created_at));
      prevSender = undefined;
      continue;
    }
    const mine = m.sender == null;
    const text = contentText(m.content);
    const showName = !mine && m.sender !== prevSender;
    prevSender = m.sender;
    const senderName = mine ? null : nameOf(m.sender);
    const meta = el("span", { class: "meta" },
      el("time", { datetime: new Date(toMs(m.created_at)).toISOString(), title: formatFull(m.created_at) }, formatTime(m.created_at)),
      mine && (m.status !== "sent" || m === lastOwn) ? statusText(m) : null);
    const bubble = el("div", { class: `bubble ${mine ? "bubble-me" : "bubble-staff"}` }, richText(text));
    const row = el("li", { class: `msg ${mine ? "msg-me" : "msg-staff"}${m.status === "failed" || m.status === "queued" ? " msg-failed" : ""}` },
      showName ? el("span", { class: "sender" }, senderName || "Support") : null,
      el("span", { class: "sr-only" }, mine ? "You said: " : "Agent said: "),
      bubble, meta);
    if (m.status === "failed") {
      row.appendChild(el("button", { type: "button", class: "retry", onclick: () => { deliver(m); renderMessages(); } }, "Not sent — retry"));
    }
    rows.push(row);
  }
  notes.forEach((n) => rows.push(noteRow(n.text)));
  setChildren(ui.messages, rows);
  if (state.stick || items.some((m) => m.local && m.status === "sending")) scrollToEnd();
}

function statusText(m) {
  if (!m.local) return null;
  const t = { sending: "Sending…", sent: "Sent", queued: "Waiting for connection…", failed: "" }[m.status] || "";
  return t ? el("span", { class: "status" }, ` · ${t}`) : null;
}

function systemText(m) {
  const c = contentText(m.content).toLowerCase();
  const who = (m.sender && nameOf(m.sender)) || "An agent";
  if (c === "join room") return `${who} joined the chat`;
  if (c === "take over room") return `${who} has taken over the chat`;
  if (c === "leave room") return `${who} left the chat`;
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
    if (state.phase === "ended") ui.endedText.textContent = "Your session expired. Start a new chat to continue.";
    hideBanner();
    render();
    return;
  }
  if (s === "reconnecting") {
    const offline = navigator.onLine === false;
    showBanner(offline ? "You're offline. We'll reconnect when your connection is back." : describeState(s, state.connInfo),
      "Retry now", () => socket.retryNow(), "error");
    state.bannerTimer = setTimeout(renderBanner, 1000);
    return;
  }
  if (s === "connecting") {
    // Only worth a banner if it takes a while.
    state.bannerTimer = setTimeout(() => {
      if (state.connState === "connecting") showBanner("Connecting…", null, null, "info");
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
  if (d.type === "frontdesk:open") {
    state.panelOpen = true;
    clearUnread();
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
  if (!document.hidden && state.panelOpen) clearUnread();
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
    await socket.send("visitor_leave_room", null);
    stopTyping();
    endChat("You ended the chat. Thanks for reaching out!", true);
  } catch (e) {
    showBanner(e.message, null, null, "error");
    state.bannerTimer = setTimeout(renderBanner, 4000);
  }
  render();
});
ui.newChat.addEventListener("click", () => {
  state.list.clear();
  state.notes = [];
  state.phase = "new";
  render();
  ui.input.focus();
});
document.addEventListener("pointerdown", unlockAudio, { once: true });

applyConfig();
render();
if (state.session) socket.connect();
if (embedded) postToHost({ type: "frontdesk:ready" });
if (!embedded) ui.input.focus();
