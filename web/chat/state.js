// The visitor chat's configuration (the widget's query), its DOM handles and its state, and the
// visitor's session in localStorage.
import { MessageList } from "/shared/ws.js";
import { staffName, errorMessage, toMs } from "/shared/format.js";
import { t, chooseLang, hasOverride } from "./texts.js";
import { tabs, on } from "./link.js";
import { prechatValues } from "./sending.js";
import { awayText } from "./view.js";
import { notice, rating } from "./chat.js";
import { composerError, prechatShown, prechatRefused } from "./extras.js";

export const STORE_KEY = "frontdesk.visitor";

export const NAMES_KEY = "frontdesk.visitor.staff_names";

export const LAST_CHAT_KEY = "frontdesk.visitor.last_chat";   // {chat_id, at}: the chat to show after it ends

export const ENDED_KEEP_MS = 24 * 3600 * 1000;                 // an ended chat stays on screen for a day

export const PENDING_KEY = 1e12;                               // sort key of sends not acked yet: after everything

export const QUIET_OUTAGE_MS = 2000;                           // a shorter outage shows no banner at all

export const TYPING_IDLE_MS = 2500;

export const TYPING_REPEAT_MS = 4000;

export const TYPING_SHOW_MS = 8000;

export const params = new URLSearchParams(location.search);

export const embedded = params.get("embed") === "1" && window.parent !== window;

export const hostOrigin = safeOrigin(params.get("host"));

export const hideWhenOffline = params.get("hideoffline") === "1";

export const AVAILABILITY_POLL_MS = 60000;                     // the launcher follows the team's availability

// The host page's data-prechat: the fallback when the server's pre-chat setting is off.
export const hostPrechat = ["off", "optional", "required"].includes(params.get("prechat")) ? params.get("prechat") : "optional";

export const CONTENT_LIMIT = 16 * 1024;                        // bytes of a message's content JSON (product.md §7)

chooseLang(params.get("lang"));

export const $ = (id) => document.getElementById(id);

export const ui = {
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
  transcript: $("transcript"),
};

export const state = {
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

export function safeOrigin(s) {
  try { return s ? new URL(s).origin : null; } catch { return null; }
}

// ---- configuration from the query (the widget's data- attributes) -----------------------------

export let configuredTitle = t("title");

/** The server's look (setting `widget`, from GET /api/v1/availability): the page's parameters win. */
export const look = {};

export function applyConfig() {
  const text = (v) => (typeof v === "string" ? v : "");
  const title = params.get("title") || text(look.title);
  // The server's override of "title" wins over the page's data-title, as with every text.
  configuredTitle = hasOverride("title") || !title ? t("title") : title.slice(0, 80);
  document.title = configuredTitle;
  ui.title.textContent = configuredTitle;
  const greeting = params.get("greeting") || text(look.greeting);
  ui.greeting.textContent = greeting && !hasOverride("greeting") ? greeting.slice(0, 500) : t("greeting");
  const color = params.get("color") || text(look.color);
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
export function readableOn(color) {
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

export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (s && s.token && (!s.expires_at || toMs(s.expires_at) > Date.now())) return s;
  } catch { /* storage blocked or corrupt */ }
  return null;
}

export function loadNames() {
  try { return new Map(Object.entries(JSON.parse(localStorage.getItem(NAMES_KEY) || "{}"))); } catch { return new Map(); }
}

export function rememberStaff(st) {
  if (!st || !st.id || state.names.get(st.id) === staffName(st)) return;
  state.names.set(st.id, staffName(st));
  try { localStorage.setItem(NAMES_KEY, JSON.stringify(Object.fromEntries([...state.names].slice(-50)))); } catch { /* ignore */ }
}

export function nameOf(id) {
  const st = state.staff.get(id);
  return st ? staffName(st) : (state.names.get(id) || null);
}

export function saveSession(s) {
  state.session = s;
  try {
    if (s) localStorage.setItem(STORE_KEY, JSON.stringify(s));
    else localStorage.removeItem(STORE_KEY);
  } catch { /* storage blocked: the chat lasts as long as the page */ }
}

export async function createVisitor() {
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
