// Issue 14 on the visitor side: read receipts, attachments in the conversation, the content limit,
// the host page's context (visitor_page), the server's pre-chat form, the launcher's labels.
import { contentText } from "/shared/format.js";
import { t, hasOverride } from "./texts.js";
import { attachmentOf, attachmentView } from "./attach.js";
import { embedded, hostOrigin, hostPrechat, $, ui, state } from "./state.js";
import { role, request, on } from "./link.js";
import { render, postToHost } from "./view.js";

export function setRead(r) {
  if (!r || typeof r !== "object") return;
  if (typeof r.staff === "number") state.read.staff = Math.max(state.read.staff, r.staff);
  if (typeof r.visitor === "number") state.read.visitor = Math.max(state.read.visitor, r.visitor);
}

/**
 * Our messages acked before the chat's id was known stay as local copies without a
 * sequence_num ("Seen" needs it): the chat's messages from the start replace them.
 */
export function syncOwn() {
  if (!state.chatId || !state.list.items.some((m) => m.local && m.status === "sent" && m.clientMsgId)) return;
  request("sync", { chat_id: state.chatId, after_sequence_num: 0 }).catch(() => {});
}

/** Tells the server we read up to the newest staff message, while the panel is open and shown. */
export function markRead() {
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
export const attachmentViews = new Map();

export function attachmentNode(a) {
  const key = a.id || a.url;
  let n = attachmentViews.get(key);
  if (!n) { n = attachmentView(a, state.session && state.session.token); attachmentViews.set(key, n); }
  return n;
}

export function spokenText(msg) {
  const a = attachmentOf(msg.content);
  return a ? (typeof a.name === "string" ? a.name : "") : contentText(msg.content);
}

export function canUpload() {
  return !!(state.session && state.chatId && (state.phase === "waiting" || state.phase === "active") && role !== "none");
}

/** The visible line above the composer (too long, upload refused); "" hides it. */
export let composerErrorTimer = null;

export function composerError(text) {
  clearTimeout(composerErrorTimer);
  ui.composerError.textContent = text;
  ui.composerError.hidden = !text;
  if (text) composerErrorTimer = setTimeout(() => composerError(""), 12000);
}

export function renderComposerExtras() {
  const ok = canUpload();
  ui.attach.setAttribute("aria-disabled", String(!ok));
  ui.attach.classList.toggle("is-disabled", !ok);
  ui.attachHint.textContent = ok ? "" : t("attach_later");
  ui.attach.title = ok ? t("attach") : t("attach_later");
}

/** Bytes of the content JSON a message with this text would send (the server's limit counts them). */
export function contentBytes(text) {
  return new TextEncoder().encode(JSON.stringify({ content: text, timestamp: Date.now() })).length;
}

// Visitor context: the host page the widget is on (frontdesk:page), sent once per page view.
export function hostPageSeen(d) {
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

export function sendPage() {
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
export const MODES = ["off", "optional", "required"];

export function setPrechat(p) {
  if (!p || typeof p !== "object" || typeof p.enabled !== "boolean") return;
  state.prechat = { enabled: p.enabled, name: MODES.includes(p.name) ? p.name : "optional", email: MODES.includes(p.email) ? p.email : "optional" };
}

export function prechatFields() {
  if (state.prechat && state.prechat.enabled) return { name: state.prechat.name, email: state.prechat.email };
  return { name: hostPrechat, email: hostPrechat };
}

export function missingRequired() {
  const v = (state.session && state.session.visitor) || {};
  const f = prechatFields();
  const out = [];
  if (f.name === "required" && (!v.name || v.is_anonymous)) out.push("name");
  if (f.email === "required" && !v.email) out.push("email");
  return out;
}

export function prechatShown() {
  const f = prechatFields();
  if (f.name === "off" && f.email === "off") return false;
  if (state.prechatRefused) return true;
  if (state.phase !== "new") return false;
  return !state.session || missingRequired().length > 0;
}

export function renderPrechat() {
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
export function prechatRefused(clientMsgId, message) {
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
export function tellLabels() {
  if (!embedded) return;
  const labels = {};
  for (const k of ["launcher_open", "launcher_close", "launcher_unread"]) if (hasOverride(k)) labels[k] = t(k);
  if (Object.keys(labels).length) postToHost({ type: "frontdesk:labels", labels });
}
