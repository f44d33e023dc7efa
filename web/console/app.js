// Staff console entry: sign-in, the live connection, the top bar (connection state, sound,
// desktop notifications, title badge), the "already online" takeover and the hash routes.

import { LiveSocket, describeState, justReloaded } from "/shared/ws.js";
import { el, staffName, roleName, initials, hueFor, unlockAudio, chime } from "/shared/format.js";
import { api, getToken, setToken, setUnauthorizedHandler } from "/console/api.js";
import { Inbox } from "/console/inbox/inbox.js";
import { Team } from "/console/team.js";

const $ = (id) => document.getElementById(id);
const SOUND_KEY = "frontdesk.console.sound";

let me = null;
let socket = null;
let inbox = null;
let team = null;
let connTimer = null;
let soundOn = localStorage.getItem(SOUND_KEY) !== "off";

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
    try { await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: token } }); } catch { /* offline */ }
  }
  // A fresh page is the simplest way to drop every piece of live state.
  if (me) { sessionStorage.setItem("frontdesk.login_message", message); location.reload(); return; }
  showLogin(message);
}

$("logout").addEventListener("click", () => signOut());

// ---- the console ---------------------------------------------------------------------------------

function boot(staff) {
  me = staff;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("me-name").textContent = staffName(me);
  $("me-role").textContent = roleName(me.role_id);
  $("me-avatar").textContent = initials(staffName(me));
  $("me-avatar").dataset.hue = String(hueFor(me.id) % 12);
  // Under 1180px the name and role are hidden; the avatar still tells who is signed in.
  $("me-avatar").title = `${staffName(me)} · ${roleName(me.role_id)}`;
  $("nav-team").hidden = me.role_id !== 1;

  socket = new LiveSocket({
    token: getToken,
    onState: renderConn,
    checkAuth: async () => {
      const res = await fetch("/api/v1/me", { headers: { Authorization: getToken() || "" } });
      return res.status !== 401;
    },
  });
  inbox = new Inbox({ socket, me, notify, toast });
  inbox.onChange = updateTitle;
  if (me.role_id === 1) team = new Team({ me, toast });

  let autoForced = false;
  let gotInit = false;
  const reloaded = justReloaded();
  socket.on("staff_already_online", () => {
    socket.stop("stopped");
    if (reloaded && !autoForced && !gotInit) {
      // Our own page before the reload still holds the session: take it back silently.
      autoForced = true;
      socket.connect({ force: true });
      return;
    }
    $("already-online").hidden = false;
    $("use-here").focus();
  });
  socket.on("staff_init", () => { gotInit = true; $("already-online").hidden = true; });
  socket.connect();

  window.addEventListener("hashchange", route);
  route();
  setupNotifications();
  inbox.render();
}

$("use-here").addEventListener("click", () => {
  $("already-online").hidden = true;
  socket.connect({ force: true });
});
$("conn-retry").addEventListener("click", () => socket && socket.retryNow());

function renderConn(state, info) {
  clearTimeout(connTimer);
  const pill = $("conn");
  const kind = state === "open" ? "ok" : state === "connecting" ? "connecting" : state === "reconnecting" ? "warn" : "off";
  pill.className = `conn conn-${kind}`;
  $("conn-text").textContent = state === "open" ? "Online" : state === "stopped" ? "Disconnected" : describeState(state, info);
  $("conn-retry").hidden = state !== "reconnecting";
  if (state === "reconnecting") connTimer = setTimeout(() => renderConn(socket.state, socket.state === "reconnecting" ? info : {}), 1000);
  if (state === "unauthorized") signOut("Your session has expired. Please sign in again.");
}

function route() {
  const r = location.hash.replace(/^#\/?/, "") || "inbox";
  const isTeam = r === "team" && me.role_id === 1;
  $("inbox-view").hidden = isTeam;
  $("team-view").hidden = !isTeam;
  $("nav-inbox").classList.toggle("tab-active", !isTeam);
  $("nav-team").classList.toggle("tab-active", isTeam);
  $("nav-inbox").setAttribute("aria-current", isTeam ? "false" : "page");
  $("nav-team").setAttribute("aria-current", isTeam ? "page" : "false");
  if (isTeam) team.show();
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
