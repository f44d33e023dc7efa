// Staff console entry: sign-in, the live connection, the top bar (connection state, sound,
// desktop notifications, title badge), which tab is live (tabs.js: the others follow, or take
// over with `force`) and the hash routes.

import { LiveSocket, describeState, justReloaded } from "/shared/ws.js";
import { el, staffName, roleName, hueFor, unlockAudio, chime } from "/shared/format.js";
import { api, getToken, setToken, setUnauthorizedHandler } from "/console/api.js";
import { Inbox } from "/console/inbox/inbox.js";
import { Team } from "/console/team.js";
import { WidgetSettings } from "/console/widget_settings.js";
import { HistoryView } from "/console/history_view.js";
import { ReportsView } from "/console/reports_view.js";
import { AuditView } from "/console/audit_view.js";
import { Profile, forgetPushDevice } from "/console/profile.js";
import { photoOrInitials } from "/console/inbox/ui.js";
import { ConsoleTabs, summaryText } from "/console/tabs.js";
import { applyTexts } from "/shared/i18n.js";
import { applyConsoleTexts } from "/console/texts.js";

const $ = (id) => document.getElementById(id);
const SOUND_KEY = "frontdesk.console.sound";

let me = null;
let socket = null;
let inbox = null;
let team = null;
let widgetView = null; // staff who are not admins: the widget's settings, read-only
let historyView = null;
let reportsView = null; // supervisors and admins
let auditView = null; // admins
let connTimer = null;
let tabs = null;
let following = false;   // another tab (or window) holds the live session
let lastDropCode = null; // the close code of the last drop (1000: the server closed us on purpose)
let forcedBack = false;  // this tab took its own session back with force lately (see staff_already_online)
let forcedBackTimer = null;
let soundOn = localStorage.getItem(SOUND_KEY) !== "off";
let pendingChat = null;  // a chat id from a link in an email (`#chat=ID`), opened once the inbox has it

// ---- sign in -------------------------------------------------------------------------------------

async function start() {
  setUnauthorizedHandler(() => signOut("Your session has expired. Please sign in again."));
  const token = getToken();
  if (!token) { showLogin(); return; }
  try {
    const who = await api("/api/v1/me");
    if (!who || who.kind !== "staff" || !who.staff) { setToken(null); showLogin(); return; }
    boot(who.staff);
  } catch (e) {
    if (e.status === 401) { setToken(null); showLogin(); return; }
    showLogin(e.message);
  }
}

function showLogin(message = "") {
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message;
  document.title = "Sign in · Frontdesk";
  setTimeout(() => $("login-email").focus(), 0);
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  $("login-error").textContent = "";
  if (!email || !password) { $("login-error").textContent = "Enter your email and password."; return; }
  const btn = $("login-submit");
  btn.disabled = true;
  btn.textContent = "Signing in…";
  try {
    const data = await api("/api/v1/auth/login", { method: "POST", body: { email, password }, auth: false });
    setToken(data.access_token);
    $("login-password").value = "";
    boot(data.staff);
  } catch (err) {
    $("login-error").textContent = err.message;
    $("login-password").select();
  } finally {
    btn.disabled = false;
    btn.textContent = "Sign in";
  }
});

async function signOut(message = "") {
  const token = getToken();
  if (socket) { socket.destroy(); socket = null; }
  setToken(null);
  if (token && !message) {
    await forgetPushDevice(token);
    try { await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: token } }); } catch { /* offline */ }
  }
  // A fresh page is the simplest way to drop every piece of live state.
  if (me) { sessionStorage.setItem("frontdesk.login_message", message); location.reload(); return; }
  showLogin(message);
}

$("logout").addEventListener("click", () => signOut());

// ---- the console ---------------------------------------------------------------------------------

let profile = null;

/** Who is signed in, in the top bar: photo (or initials), name and role. */
function drawMe(who) {
  $("me-name").textContent = staffName(who);
  $("me-role").textContent = roleName(who.role_id);
  $("me-avatar").replaceChildren(photoOrInitials(staffName(who), who.avatar_url));
  $("me-avatar").dataset.hue = String(hueFor(who.id) % 12);
  // Under 1180px the name and role are hidden; the avatar still tells who is signed in.
  $("me-button").title = `${staffName(who)} · ${roleName(who.role_id)}`;
}

function boot(staff) {
  me = staff;
  applyTexts();
  applyConsoleTexts();
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  drawMe(me);
  if (profile) profile.me = me;
  else profile = new Profile({ me, toast, changed: drawMe });
  $("nav-team").hidden = me.role_id !== 1;
  $("nav-widget").hidden = me.role_id === 1;

  socket = new LiveSocket({
    token: getToken,
    onState: (state, info) => {
      if (state === "reconnecting" && info && info.code != null) lastDropCode = info.code;
      renderConn(state, info);
      if (inbox) inbox.connectionChanged(state);
    },
    checkAuth: async () => {
      const res = await fetch("/api/v1/me", { headers: { Authorization: getToken() || "" } });
      return res.status !== 401;
    },
  });
  inbox = new Inbox({ socket, me, notify, toast });
  inbox.onChange = () => { updateTitle(); announceToTabs(); };
  if (me.role_id === 1) team = new Team({ me, toast });
  else if (!widgetView) widgetView = new WidgetSettings({ toast, readOnly: true, before: $("widget-view-end") });
  if (!historyView) historyView = new HistoryView({ me, root: $("history-view") });
  $("nav-reports").hidden = me.role_id === 3;
  if (me.role_id !== 3 && !reportsView) reportsView = new ReportsView({ root: $("reports-view") });
  $("nav-audit").hidden = me.role_id !== 1;
  if (me.role_id === 1 && !auditView) auditView = new AuditView({ root: $("audit-view") });
  if (team) inbox.onCannedChanged = (list) => team.canned.changed(list);

  tabs = new ConsoleTabs(me.id, {
    summary: (s) => { if (following) showElsewhere(s); },
    hello: () => { if (!following && socket.state === "open") announceToTabs(true); },
    // Another tab of mine took the session: stop at once (no reconnect that would fight it).
    takenOver: () => { if (!following) follow(null); },
    // The live tab closed: this one carries on.
    liveGone: () => { if (following) setTimeout(() => { if (following) { following = false; liveWentAway = true; socket.connect(); } }, 300); },
  });
  window.addEventListener("pagehide", () => { if (!following && socket.state === "open") tabs.bye(); });

  let autoForced = false;
  let gotInit = false;
  let liveWentAway = false; // the live tab here said bye and this one connects in its place
  const reloaded = justReloaded();
  socket.on("staff_already_online", async () => {
    socket.stop("stopped");
    if (reloaded && !autoForced && !gotInit) {
      // Our own page before the reload still holds the session: take it back silently.
      autoForced = true;
      socket.connect({ force: true });
      return;
    }
    // This tab was live and its link dropped (not closed by the server on purpose): the session
    // the server still holds is our own dead connection, unless a tab here says it is live.
    // The same when the live tab here just closed and the server has not seen its socket go yet.
    // At most once per live session: if the force is answered by being replaced again, the
    // other session is real and this tab follows (two tabs never take turns forever).
    const ours = ((gotInit && lastDropCode !== 1000) || liveWentAway) && !forcedBack;
    liveWentAway = false;
    if (ours && !following && !(await tabs.askLive())) {
      forcedBack = true;
      socket.connect({ force: true });
      return;
    }
    follow(null);
    tabs.askLive();
  });
  socket.on("staff_init", () => {
    gotInit = true;
    liveWentAway = false;
    // Kept a while after a forced resume: replaced again within it means another real session.
    clearTimeout(forcedBackTimer);
    if (forcedBack) forcedBackTimer = setTimeout(() => { forcedBack = false; }, 30000);
    const wasFollowing = following || !$("already-online").hidden;
    following = false;
    lastDropCode = null;
    $("already-online").hidden = true;
    if (wasFollowing) route();
    openPendingChat();
    announceToTabs(true);
  });
  socket.connect();

  window.addEventListener("hashchange", route);
  route();
  setupNotifications();
  inbox.render();
}

/** This tab follows: the live session is elsewhere. Its own lists would be stale or empty: hidden. */
function follow(summary) {
  const first = !following;
  following = true;
  if (socket.state !== "stopped") socket.stop("stopped");
  showElsewhere(summary);
  if (first) $("use-here").focus();
}

function showElsewhere(summary) {
  const text = summaryText(summary);
  $("elsewhere-summary").textContent = text;
  $("elsewhere-summary").hidden = !text;
  $("elsewhere-text").textContent = summary
    ? "Only one tab can be connected for your account. Your chats and the queue are live there."
    : "Only one tab or window can be connected for your account (maybe on another device). Your chats and the queue are live there.";
  $("already-online").hidden = false;
  route();
  renderConn(socket.state, {});
}

/** The live tab tells the following ones what waits (debounced by the summary's equality). */
function announceToTabs(always = false) {
  if (!tabs || following || !inbox || socket.state !== "open") return;
  const l = inbox.lists();
  tabs.announce({ queue: l.queue.length, mine: l.mine.length, offline: l.offline.length }, always);
}

$("use-here").addEventListener("click", () => {
  forcedBack = false;
  $("use-here").disabled = true;
  setTimeout(() => { $("use-here").disabled = false; }, 1500);
  tabs.takeover();
  following = false;
  socket.connect({ force: true });
});
$("conn-retry").addEventListener("click", () => socket && socket.retryNow());

function renderConn(state, info) {
  clearTimeout(connTimer);
  const pill = $("conn");
  const kind = state === "open" ? "ok" : state === "connecting" || following ? "connecting" : state === "reconnecting" ? "warn" : "off";
  pill.className = `conn conn-${kind}`;
  $("conn-text").textContent = state === "open" ? "Online" : state === "stopped" ? (following ? "In another tab" : "Disconnected") : describeState(state, info);
  $("conn-retry").hidden = state !== "reconnecting";
  if (state === "reconnecting") connTimer = setTimeout(() => renderConn(socket.state, socket.state === "reconnecting" ? info : {}), 1000);
  if (state === "unauthorized") signOut("Your session has expired. Please sign in again.");
}

/** The chat an email links to (`/console/#chat=ID`): selected in the inbox as soon as it is known. */
function openPendingChat() {
  if (!pendingChat || !inbox || following) return;
  const r = inbox.store.byChatId(pendingChat);
  if (!r) return;
  pendingChat = null;
  history.replaceState(null, "", "#/inbox");
  inbox.select(r.id);
}

function route() {
  const link = /^#chat=([A-Za-z0-9_-]{1,64})$/.exec(location.hash);
  if (link) pendingChat = link[1];
  const [r, query] = (location.hash.replace(/^#\/?/, "") || "inbox").split("?");
  const isTeam = r === "team" && me.role_id === 1;
  const isWidget = r === "widget" && !!widgetView;
  const isHistory = r === "history" && !!historyView;
  const isReports = r === "reports" && !!reportsView;
  const isAudit = r === "audit" && !!auditView;
  const isInbox = !isTeam && !isWidget && !isHistory && !isReports && !isAudit;
  // While another tab is live this one shows only the "open in another tab" page.
  $("inbox-view").hidden = !isInbox || following;
  $("team-view").hidden = !isTeam || following;
  $("widget-view").hidden = !isWidget || following;
  $("history-view").hidden = !isHistory || following;
  $("reports-view").hidden = !isReports || following;
  $("audit-view").hidden = !isAudit || following;
  // My availability is the live tab's to set.
  $("availability").hidden = following;
  for (const [id, on] of [["nav-inbox", isInbox], ["nav-history", isHistory], ["nav-reports", isReports], ["nav-audit", isAudit], ["nav-team", isTeam], ["nav-widget", isWidget]]) {
    $(id).classList.toggle("tab-active", on);
    $(id).setAttribute("aria-current", on ? "page" : "false");
  }
  if (isTeam && !following) team.show();
  if (isWidget && !following) widgetView.show();
  if (isReports && !following) reportsView.show();
  if (isAudit && !following) auditView.show();
  if (isHistory && !following) {
    historyView.show();
    const chat = new URLSearchParams(query || "").get("chat");
    if (chat) historyView.openId(chat);
  }
  openPendingChat();
}

// ---- attention: title badge, sound, desktop notifications ----------------------------------------

function updateTitle() {
  const n = inbox ? inbox.attentionCount : 0;
  document.title = n ? `(${n}) Frontdesk` : "Frontdesk";
  const pill = $("nav-inbox-count");
  pill.textContent = String(n);
  pill.hidden = !n;
}

function setupNotifications() {
  const btn = $("notify-btn");
  const refresh = () => {
    btn.hidden = !("Notification" in window) || Notification.permission !== "default";
  };
  refresh();
  btn.addEventListener("click", async () => {
    try { await Notification.requestPermission(); } catch { /* unsupported */ }
    refresh();
  });
  const sound = $("sound-btn");
  const paint = () => {
    sound.textContent = soundOn ? "Sound on" : "Sound off";
    sound.setAttribute("aria-pressed", String(soundOn));
  };
  paint();
  sound.addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
    paint();
    if (soundOn) { unlockAudio(); chime("message"); }
  });
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
}

/** A new chat or a new message in a background chat: sound, title (via render), notification. */
function notify(kind, title, body, roomId) {
  if (soundOn) chime(kind);
  const background = document.hidden || (kind === "message" && inbox.selected !== roomId) || kind === "chat";
  if (!background || !("Notification" in window) || Notification.permission !== "granted") return;
  if (!document.hidden && kind === "message") return; // the list badge is enough while we look
  try {
    const n = new Notification(title, { body: String(body || "").slice(0, 160), tag: `frontdesk-${roomId}`, renotify: true });
    n.onclick = () => { window.focus(); location.hash = "#/inbox"; inbox.select(roomId); n.close(); };
  } catch { /* some platforms only allow notifications from a service worker */ }
}

// ---- toasts --------------------------------------------------------------------------------------

function toast(text, kind = "info") {
  const t = el("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  $("toasts").appendChild(t);
  setTimeout(() => t.classList.add("toast-out"), 4500);
  setTimeout(() => t.remove(), 5000);
}

const pending = sessionStorage.getItem("frontdesk.login_message");
if (pending !== null) {
  sessionStorage.removeItem("frontdesk.login_message");
  showLogin(pending);
} else {
  start();
}
