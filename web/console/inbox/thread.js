// The open chat's messages: day separators, who wrote what, system messages and notes as lines,
// the local echo's delivery state with Retry (a reply moves to its place by `sequence_num` once
// the server has it), and the "… is typing" line.

import { el, setChildren, formatTime, formatFull, contentText, staffName, visitorName, toMs, linkify } from "/shared/format.js";
import { $, noteRow, dayLabel } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";
import { ct } from "/console/texts.js";
import { attachmentOf, attachmentView } from "/console/inbox/attachments.js";

/** A message in one line for lists and announcements: files by name, notes marked. */
export function previewText(m) {
  if (!m) return "";
  const a = attachmentOf(m);
  if (a) return `📎 ${a.name || "file"}`;
  if (m.type_id === 3) return `${ct("note.label")}: ${contentText(m.content)}`;
  return contentText(m.content);
}

/** What the meta line says of a reply not yet in its place (outbox.js). */
const DELIVERY = {
  waiting: "Waiting for connection…",
  sending: "Sending…",
  sent: "Sent",
  failed: "Not sent",
};

export class ThreadView {
  constructor(inbox) {
    this.inbox = inbox;
  }

  render() {
    const r = this.inbox.current();
    const thread = $("thread");
    if (!r) { thread.replaceChildren(); return; }
    const me = this.inbox.me;
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    const rows = [];
    const notes = [...r.notes];
    const key = (m) => (m.local ? m.afterSeq : (m.sequence_num ?? Infinity));
    let lastSender;
    let lastDay = "";
    const lastOwn = [...r.list.items].reverse().find((m) => m.sender === me.id && m.type_id !== 3);
    // "Seen": under the last staff message the visitor has read (room.read / message_seen).
    const seen = [...r.list.items].reverse().find((m) => !m.local && m.sender != null && (m.type_id === 1 || m.type_id === 2)
      && typeof m.sequence_num === "number" && m.sequence_num <= r.read.visitor);
    for (const m of r.list.items) {
      while (notes.length && notes[0].key < key(m)) rows.push(noteRow(notes.shift().text));
      const day = new Date(toMs(m.created_at)).toDateString();
      if (day !== lastDay) { rows.push(el("li", { class: "day" }, el("span", null, dayLabel(m.created_at)))); lastDay = day; }
      if (m.type_id === 0) {
        rows.push(noteRow(this.systemText(m), m.created_at));
        lastSender = undefined;
        continue;
      }
      const fromVisitor = m.sender == null;
      const mine = m.sender === me.id;
      const isNote = m.type_id === 3;
      const name = fromVisitor ? visitorName(r.info) : (mine ? "You" : staffName(this.inbox.staffById(m.sender)));
      const who = isNote ? ct("note.by", { name }) : name;
      const showWho = isNote || m.sender !== lastSender;
      lastSender = isNote ? undefined : m.sender;
      const a = attachmentOf(m);
      const row = el("li", { class: `msg ${fromVisitor ? "msg-visitor" : "msg-staff"}${mine ? " msg-mine" : ""}${isNote ? " msg-note" : ""}${a ? " msg-file" : ""}${m.status === "failed" ? " msg-failed" : ""}${m.local && m.status === "waiting" ? " msg-waiting" : ""}`, "data-seq": m.local ? null : String(m.sequence_num ?? ""), "data-type": String(m.type_id ?? 1) },
        showWho ? el("span", { class: "msg-who" }, who) : el("span", { class: "sr-only" }, who),
        el("div", { class: "bubble" }, a ? attachmentView(a) : linkify(contentText(m.content))),
        el("span", { class: "msg-meta" },
          el("time", { datetime: new Date(toMs(m.created_at)).toISOString(), title: formatFull(m.created_at) }, formatTime(m.created_at)),
          m.local && (m.status !== "sent" || m === lastOwn) ? ` · ${DELIVERY[m.status] || DELIVERY.failed}` : "",
          m === seen ? el("span", { class: "msg-seen" }, ` · ${ct("read.seen")}`) : null));
      if (m.status === "failed") {
        row.appendChild(el("button", { type: "button", class: "link-btn", onclick: () => this.inbox.composer.retry(r, m) }, `Retry (${m.error || "failed"})`));
      }
      rows.push(row);
    }
    notes.forEach((n) => rows.push(noteRow(n.text)));
    setChildren(thread, rows);
    if (atBottom || r.list.items.some((m) => m.local && (m.status === "sending" || m.status === "waiting"))) thread.scrollTop = thread.scrollHeight;
  }

  systemText(m) {
    const me = this.inbox.me;
    const who = m.sender ? (m.sender === me.id ? "You" : staffName(this.inbox.staffById(m.sender))) : "Someone";
    return systemText(m, who);
  }

  renderTyping() {
    const r = this.inbox.current();
    const line = $("typing-line");
    line.replaceChildren();
    if (r && r.typing) {
      line.append(el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")), `${r.typing.name} is typing…`);
    }
  }
}

/** A system message in words; `who` names its sender ("You", a colleague's name). */
export function systemText(m, who, nameOf = () => null) {
  const routed = routingText(m.content, nameOf);
  if (routed != null) return routed;
  const c = contentText(m.content).toLowerCase();
  if (c === "join room") return `${who} joined the chat`;
  if (c === "take over room") return `${who} took over the chat`;
  if (c === "leave room") return `${who} left the chat`;
  if (c === "closed inactive") return ct("sys.closed_inactive");
  return contentText(m.content);
}

/**
 * The routing system messages of issue 13 in words, or null for any other content:
 * `assigned`, `assign_timeout`, `assign_gave_up`, `transfer` (names from the message itself, so
 * an old chat reads right after the people in it have gone offline).
 */
export function routingText(content, nameOf = () => null) {
  if (!content || typeof content !== "object") return null;
  const str = (v) => (typeof v === "string" && v ? v : null);
  const name = (id, given) => nameOf(id) || str(given) || t("sys.someone");
  switch (content.content) {
    case "assigned": {
      const routing = str(content.routing);
      const words = routing && t(`routing.${routing}`);
      return routing && typeof content.attempt === "number"
        ? t("sys.assigned_by", { name: name(content.staff, content.name), routing: words, attempt: content.attempt })
        : t("sys.assigned", { name: name(content.staff, content.name) });
    }
    case "assign_timeout":
      return t("sys.assign_timeout", { name: name(content.staff, content.name), secs: content.after_secs ?? "?" });
    case "assign_declined":
      return t("sys.assign_declined", { name: name(content.staff, content.name) });
    case "assign_gave_up":
      return t("sys.assign_gave_up", { attempts: content.attempts ?? "?" });
    case "transfer": {
      const vars = { from: name(content.from, content.from_name), to: name(content.to, content.to_name) };
      const note = str(content.note);
      return note ? t("sys.transfer_note", { ...vars, note }) : t("sys.transfer", vars);
    }
    default:
      return null;
  }
}
