// The visitor chat: standalone at /chat/ and inside the widget's iframe (?embed=1).
// Talks to /ws as a visitor (product.md §4, §6). All user text is rendered with textContent.
// This file wires it up: the server's events, the page's listeners, the start; the rest is in
// state.js, link.js, conversation.js, sending.js, view.js, extras.js (issue 14), attach.js, ending.js.

import { asMessage } from "/shared/ws.js";
import { staffName, unlockAudio, chime } from "/shared/format.js";
import { t, applyTexts } from "./texts.js";
import { attachmentOf, setupAttachments } from "./attach.js";
import { ratingForm, inactivityNotice, transcriptForm } from "./ending.js";
import { resumeFromLink } from "./resume.js";
import { PENDING_KEY, TYPING_SHOW_MS, embedded, hostOrigin, hideWhenOffline, AVAILABILITY_POLL_MS, CONTENT_LIMIT, $, ui, state, applyConfig, rememberStaff, params } from "./state.js";
import { socket, cursor, role, tabs, request, on } from "./link.js";
import { mergeMessages, rememberChat, syncSoon, hideTyping, staffJoined, announce, addNote, noteKey, endChat, resetConversation, showEndedConversation, startOver } from "./conversation.js";
import { submitMessage, onInputTyping, stopTyping } from "./sending.js";
import { render, setAvailability, saveContact, checkAvailability, awayText, renderAway, renderMessages, scrollToEnd, renderBanner, showBanner, hideBanner, postToHost, clearUnread } from "./view.js";
import { syncOwn, setRead, markRead, spokenText, canUpload, composerError, contentBytes, hostPageSeen, sendPage, setPrechat, tellLabels } from "./extras.js";

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
  // The newest staff object: a photo or title changed since the join shows in the header.
  if (d.staff) state.staff.set(d.staff.id, d.staff);
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
  if (typeof d.chat_id === "string" && !state.chatId) { rememberChat(d.chat_id); syncOwn(); }
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

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.panelOpen) { clearUnread(); markRead(); }
  // The leader retries by itself when shown; a follower shown asks it to retry now.
  if (!document.hidden && role === "follower" && state.connState === "reconnecting") tabs.post({ type: "retry" });
});

// ---- issue 14: attachments, read receipts, inactivity, rating, page context, pre-chat ----------

export const notice = inactivityNotice(ui.notice);

export const rating = ratingForm(ui.rating, (value, comment) => request("rate_chat", comment ? { rating: value, comment } : { rating: value }), announce);

// The transcript by email (issue 15): for the chat that just ended, once.
export const transcript = transcriptForm(ui.transcript, async (email) => {
  const res = await fetch("/api/v1/visitors/transcript", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: state.session && state.session.token },
    body: JSON.stringify({ email }),
  });
  if (res.ok) return (await res.json()).to || email;
  let code = "";
  try { code = (await res.json()).error.code; } catch { /* not JSON */ }
  throw Object.assign(new Error(code || String(res.status)), { code });
}, () => (state.session && state.session.visitor && state.session.visitor.email) || ui.ctEmail.value.trim() || ui.pcEmail.value.trim(), announce);

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
  if (d.reader) { setRead({ staff: d.sequence_num }); syncOwn(); } else setRead({ visitor: d.sequence_num }); // our own read, from another tab
  renderMessages();
});

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

// A link from an email resumes that conversation: its session first, then the usual start.
await resumeFromLink(params, ui.notice);

tabs.start(); // the leader tab connects (onLeader); the others follow it

if (embedded) { postToHost({ type: "frontdesk:ready" }); tellLabels(); } else hostPageSeen({ url: location.href, title: document.title, referrer: document.referrer });

if (!embedded) ui.input.focus();
