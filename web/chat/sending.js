// Sending: the composer, our own messages until the server has them, the typing indicator.
import { newClientMsgId } from "/shared/ws.js";
import { unlockAudio } from "/shared/format.js";
import { t } from "./texts.js";
import { PENDING_KEY, TYPING_IDLE_MS, TYPING_REPEAT_MS, CONTENT_LIMIT, ui, state, saveSession, createVisitor } from "./state.js";
import { socket, outbox, entries, role, tabs, request, on } from "./link.js";
import { syncSoon, noteKey, resetConversation } from "./conversation.js";
import { render, renderMessages } from "./view.js";
import { notice } from "./chat.js";
import { composerError, contentBytes, prechatFields, prechatShown } from "./extras.js";

export async function submitMessage() {
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
export function queueSend(clientMsgId, content, fresh) {
  const known = entries.get(clientMsgId);
  if (known) {
    sendStatus(clientMsgId, known.status, known.error, content, { fresh });
    return;
  }
  entries.set(clientMsgId, outbox.push("visitor_msg", content, { clientMsgId, meta: { fresh: !!fresh } }));
}

/** Leader: a send changed status; show it here and tell the other tabs. */
export function sendStatus(clientMsgId, status, error, content, meta) {
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
export function showOwn(clientMsgId, content, status, error, fresh) {
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

export function retrySend(item) {
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

export function validatePrechat() {
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
export function prechatValues() {
  const f = prechatFields();
  const body = {};
  const name = ui.pcName.value.trim();
  const email = ui.pcEmail.value.trim();
  if (f.name !== "off" && name) body.name = name;
  if (f.email !== "off" && email) body.email = email;
  return body;
}

// typing indicator (our side)
export function onInputTyping() {
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

export function stopTyping() {
  clearTimeout(state.typingIdleTimer);
  if (!state.typingSentAt) return;
  state.typingSentAt = 0;
  if (state.connState === "open" && state.session) {
    request("user_stop_typing_send", { visitor: state.session.visitor.id }).catch(() => {});
  }
}

export function autoGrow() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
}

// ---- rendering ---------------------------------------------------------------------------------
