// The conversation on screen: merging server messages, notes, the end of a chat and a new one.
import { staffName } from "/shared/format.js";
import { t } from "./texts.js";
import { attachmentOf } from "./attach.js";
import { LAST_CHAT_KEY, ENDED_KEEP_MS, $, ui, state, rememberStaff } from "./state.js";
import { socket, cursor, role, on } from "./link.js";
import { render, systemText } from "./view.js";
import { notice, rating, transcript } from "./chat.js";

/**
 * Adds server messages (any order, any overlap) to the conversation: each once, in
 * sequence_num order, replacing the local copy of our own sends. Returns the new ones.
 */
export function mergeMessages(messages) {
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

export function rememberChat(chatId) {
  state.chatId = chatId;
  cursor.see(chatId, 0);
  try { localStorage.setItem(LAST_CHAT_KEY, JSON.stringify({ chat_id: chatId, at: Date.now() })); } catch { /* ignore */ }
}

export let syncQueued = false;

/** The leader asks for what came after the last message it has (once at a time). */
export function syncSoon() {
  if (role === "follower" || !state.chatId || syncQueued) return;
  syncQueued = true;
  setTimeout(() => {
    syncQueued = false;
    if (socket.isOpen && state.chatId) cursor.sync(state.chatId);
  }, 50);
}

export function hideTyping() {
  clearTimeout(state.typingShowTimer);
  ui.typing.hidden = true;
}

export function staffJoined(s) {
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

export function announce(text) {
  document.getElementById("sr-live").textContent = String(text).slice(0, 300);
}

export function addNote(text) {
  announce(text);
  state.notes.push({ afterSeq: noteKey(), text, at: Date.now() });
}

/** A sort key just after everything the server has (our sends still on their way come later). */
export function shownKey() {
  let k = 0;
  for (const m of state.list.items) {
    const key = m.local ? (m.status === "sent" ? m.afterSeq : null) : m.sequence_num;
    if (typeof key === "number" && isFinite(key)) k = Math.max(k, key);
  }
  return k;
}

export function noteKey() {
  let k = shownKey() + 0.01;
  for (const n of state.notes) k = Math.max(k, n.afterSeq + 0.001);
  return k;
}

export function endChat(text, byMe) {
  state.phase = "ended";
  state.endedByMe = !!byMe;
  state.leftMessage = false;
  state.staff.clear();
  state.away.clear();
  state.queue = null;
  ui.endedText.textContent = text;
  hideTyping();
  notice.clear();
  if (state.chatId || state.list.items.some((m) => !m.local)) { rating.offer(); transcript.offer(); }
  if (byMe) addNote(t("you_ended"));
}

/** Empties the conversation (a new chat); `keepPending` keeps our sends not yet acked. */
export function resetConversation(keepPending) {
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
  transcript.reset();
}

/**
 * After a reload with no open chat: the conversation that ended last (within a day) stays
 * readable, from the history API, with "Start a new conversation".
 */
export async function showEndedConversation() {
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
    transcript.offer();
    render();
  } catch { /* offline: nothing to show */ }
}

// ---- sending -----------------------------------------------------------------------------------

export function startOver() {
  resetConversation(true);
  state.phase = state.list.items.length ? "waiting" : "new";
  try { localStorage.removeItem(LAST_CHAT_KEY); } catch { /* ignore */ }
  render();
}
