// Rendering: the header, the messages, the waiting and offline notices, the banner, the host page.
import { el, setChildren, formatTime, formatFull, contentText, staffName, linkify, toMs } from "/shared/format.js";
import { t, waitWords, opensAtWords, applyTexts, setOverrides, chooseLang } from "./texts.js";
import { attachmentOf } from "./attach.js";
import { QUIET_OUTAGE_MS, embedded, hostOrigin, hideWhenOffline, $, ui, state, configuredTitle, applyConfig, nameOf, saveSession, look, params } from "./state.js";
import { tabs, request, on } from "./link.js";
import { announce } from "./conversation.js";
import { retrySend } from "./sending.js";
import { notice } from "./chat.js";
import { markRead, attachmentNode, renderComposerExtras, setPrechat, renderPrechat, tellLabels } from "./extras.js";
import { showTeam } from "./faces.js";

export function render() {
  const started = state.phase !== "new";
  renderPrechat();
  if (started) $("team").hidden = true; // the faces are for before a chat
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

export function setAvailability(available, opensAt) {
  state.available = !!available;
  state.opensAt = typeof opensAt === "number" && isFinite(opensAt) ? opensAt : null;
}

/** The "No one is available" notice: before writing when we know nobody is there, and after a message that went to the offline queue. */
export function offlineShown() {
  if (state.phase === "new") return state.available === false;
  return state.phase === "waiting" && state.leftMessage;
}

export function renderOffline() {
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

export async function saveContact() {
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

export function contactError(text) {
  ui.ctError.textContent = text;
  ui.ctEmail.setAttribute("aria-invalid", "true");
  ui.ctEmail.focus();
}

/** Who is available, asked before any visitor exists (no session is created for it). */
export async function checkAvailability() {
  try {
    const res = await fetch("/api/v1/availability");
    if (!res.ok) return;
    const a = await res.json();
    if (!a || typeof a !== "object") return;
    const widget = a.widget && typeof a.widget === "object" ? a.widget : null;
    if (widget) {
      Object.assign(look, widget);
      // The setting's language, unless the page (data-lang) chose one.
      if (!params.get("lang") && typeof widget.language === "string" && widget.language !== "auto") chooseLang(widget.language);
    }
    if ((a.texts && typeof a.texts === "object") || widget) {
      if (a.texts && typeof a.texts === "object") setOverrides(a.texts);
      applyTexts();
      applyConfig();
      tellLabels();
    }
    setPrechat(a.prechat);
    showTeam(a.team);
    // With a session, visitor_init tells whether anyone is there (for the chat we have).
    if (typeof a.available === "boolean" && (!state.session || hideWhenOffline || state.phase === "new")) setAvailability(a.available, a.opens_at);
    render();
  } catch { /* offline: the widget stays as it is */ }
}

/** The widget's launcher (data-hide-when-offline) shows when someone is available or a conversation is on. */
export let launcherShown = null;

export function tellLauncher() {
  if (!embedded || !hideWhenOffline) return;
  const show = state.available === true || state.phase !== "new" || state.unread > 0;
  if (show === launcherShown || state.available === null && state.phase === "new") return;
  launcherShown = show;
  postToHost({ type: "frontdesk:launcher", show });
}

export function awayText() {
  const names = [...state.away].map((id) => nameOf(id)).filter(Boolean);
  if (names.length === 1) return t("away_one", { name: names[0] });
  return t("away");
}

export function renderAway() {
  const show = state.away.size > 0 && state.phase === "active";
  ui.away.hidden = !show;
  if (show) ui.awayText.textContent = awayText();
}

export function renderHeader() {
  const serving = [...state.staff.values()];
  if (state.phase === "active" && serving.length) {
    // Like Intercom: the agent's name up top, the team's name under it.
    const names = serving.map(staffName);
    ui.title.textContent = names.join(", ");
    // The agent's job title (issue 15) before the team's name, and their photo if they set one.
    ui.subtitle.textContent = [serving[0].title, configuredTitle].filter(Boolean).join(" · ");
    const photo = serving[0].avatar_url;
    setChildren(ui.avatar, typeof photo === "string" && photo.startsWith("/api/v1/staff/")
      ? el("img", { class: "head-photo", src: photo, alt: "" }) : initialsOf(names[0]));
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

export function initialsOf(name) {
  const p = String(name).trim().split(/\s+/);
  return ((p[0] || "?")[0] + (p.length > 1 ? p[p.length - 1][0] : "")).toUpperCase();
}

export function chatIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "22"); svg.setAttribute("height", "22");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("fill", "currentColor");
  p.setAttribute("d", "M12 3C6.5 3 2 6.9 2 11.7c0 2.6 1.3 4.9 3.4 6.5L4.6 22l4.1-2.3c1 .3 2.1.4 3.3.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z");
  svg.appendChild(p);
  return svg;
}

export function renderWaiting() {
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

export function renderMessages() {
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

export function statusText(m) {
  if (!m.local) return el("span", { class: "status" }, ` · ${t("status_sent")}`); // the server's copy: stored
  const key = { sending: "status_sending", sent: "status_sent", queued: "status_queued" }[m.status];
  return key ? el("span", { class: "status" }, ` · ${t(key)}`) : null;
}

export function systemText(m) {
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

export function noteRow(text, at) {
  return el("li", { class: "note" }, el("span", null, text, at ? ` · ${formatTime(at)}` : ""));
}

export function scrollToEnd() {
  // Now, and once more after the next layout (a status line or the typing row may still grow it).
  state.stick = true;
  ui.log.scrollTop = ui.log.scrollHeight;
  requestAnimationFrame(() => { if (state.stick) ui.log.scrollTop = ui.log.scrollHeight; });
}

// ---- banner (connection state, other tab) ------------------------------------------------------

export function renderBanner() {
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

export function showBanner(text, actionLabel, action, kind) {
  ui.banner.className = `banner banner-${kind || "info"}`;
  ui.bannerText.textContent = text;
  ui.bannerAction.hidden = !actionLabel;
  ui.bannerAction.textContent = actionLabel || "";
  ui.bannerAction.onclick = action || null;
  ui.banner.hidden = false;
}

export function hideBanner() { ui.banner.hidden = true; }

// ---- host page (widget) messages ---------------------------------------------------------------

export function postToHost(msg) {
  if (!embedded) {
    document.title = state.unread ? `(${state.unread}) ${configuredTitle}` : configuredTitle;
    return;
  }
  window.parent.postMessage(msg, hostOrigin || "*");
}

export function clearUnread() {
  if (state.unread === 0) return;
  state.unread = 0;
  postToHost({ type: "frontdesk:unread", count: 0 });
}
