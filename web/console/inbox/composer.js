// The reply box: drafts per chat, Enter to send (Shift+Enter for a new line), the local echo
// handed to the ordered outbox (outbox.js: "Waiting for connection… / Sending… / Sent / Not
// sent" and Retry), and the typing signals to the room. Issue 14 adds: the Note mode (an
// internal note, `staff_note`, styled apart; the only mode while watching), files (the attach
// button, paste, drop: attachments.js), the canned-reply picker (`/` + letters: canned.js) and
// the content limit (a paste or a reply over 16 KiB of JSON is refused with a message, never cut).

import { upload } from "/console/inbox/attachments.js";
import { CannedPicker } from "/console/inbox/canned.js";
import { ct } from "/console/texts.js";

const TYPING_SEND_EVERY_MS = 4000;
const TYPING_IDLE_MS = 2500;
/** product.md §6 limits: a message's content is at most 16 KiB of JSON. */
export const CONTENT_LIMIT_BYTES = 16 * 1024;

/** The size in bytes of the content object a reply of `text` is sent as. */
export function contentBytes(text) {
  return new TextEncoder().encode(JSON.stringify({ content: text, timestamp: Date.now() })).length;
}

export class Composer {
  constructor(inbox) {
    this.inbox = inbox;
    this.drafts = new Map();
    this.noteMode = new Map(); // room id -> true while writing a note there
    this.typingSentAt = 0;
    this.typingIdle = null;
    const $ = (id) => document.getElementById(id);
    this.form = $("composer");
    this.input = $("composer-input");
    this.noteBtn = $("composer-note");
    this.error = $("composer-error");
    this.fileInput = $("composer-file");
    this.picker = new CannedPicker(this);
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.send(); });
    this.input.addEventListener("keydown", (e) => {
      if (this.picker.onKey(e)) return;
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
    });
    this.input.addEventListener("input", () => { this.showError(""); this.onInput(); this.picker.update(); });
    this.input.addEventListener("blur", () => { this.stopTyping(this.inbox.current()); setTimeout(() => this.picker.close(), 150); });
    this.input.addEventListener("paste", (e) => this.onPaste(e));
    this.noteBtn.addEventListener("click", () => {
      const r = this.inbox.current();
      if (!r || !this.store.isMine(r)) return;
      this.noteMode.set(r.id, !this.noteMode.get(r.id));
      this.render();
      this.input.focus();
    });
    $("composer-attach").addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      const files = [...this.fileInput.files];
      this.fileInput.value = "";
      this.sendFiles(files);
    });
    // Drop a file anywhere on the open conversation.
    const conv = $("conv");
    conv.addEventListener("dragover", (e) => {
      if (!this.canAttach() || !e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
      e.preventDefault();
      conv.classList.add("drop-target");
    });
    conv.addEventListener("dragleave", (e) => { if (e.target === conv || !conv.contains(e.relatedTarget)) conv.classList.remove("drop-target"); });
    conv.addEventListener("drop", (e) => {
      conv.classList.remove("drop-target");
      if (!this.canAttach() || !e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      this.sendFiles([...e.dataTransfer.files]);
    });
  }

  get store() { return this.inbox.store; }

  /** Writing a note (asked for, or the only thing a watcher may write). */
  isNote(r) { return !!r && (!this.store.isMine(r) || !!this.noteMode.get(r.id)); }

  /** May write in `r` at all: a reply/note while serving it, a note while watching it. */
  canWrite(r) { return !!r && (this.store.isMine(r) || (!!r.watched && !this.store.isEnded(r))); }

  canAttach() { const r = this.inbox.current(); return !!r && this.store.isMine(r) && !this.isNote(r); }

  /** The mode's look and words (conversation.js shows or hides the form). */
  render() {
    const r = this.inbox.current();
    const note = this.isNote(r);
    this.form.classList.toggle("composer-note", note);
    this.noteBtn.setAttribute("aria-pressed", String(note));
    this.noteBtn.disabled = !!r && !this.store.isMine(r);
    document.getElementById("composer-attach").hidden = note;
    document.getElementById("composer-label").textContent = note ? ct("note.label") : ct("note.reply_label");
    document.getElementById("composer-hint").textContent = note ? ct("note.hint") : "Enter to send · Shift+Enter for a new line";
    this.input.placeholder = note ? ct("note.placeholder") : "Type a reply… (Enter to send, Shift+Enter for a new line)";
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /** The selected chat changed: stop signalling typing in the old one, show the new one's draft. */
  switchTo(prev, next) {
    if (prev && prev !== next) this.stopTyping(prev);
    this.input.value = (next && this.drafts.get(next.id)) || "";
    this.picker.close();
    this.showError("");
  }

  tooLong(text) {
    const size = contentBytes(text);
    if (size <= CONTENT_LIMIT_BYTES) return false;
    this.showError(ct("composer.too_long", { size: Math.ceil(size / 1024), max: CONTENT_LIMIT_BYTES / 1024 }));
    return true;
  }

  /** A paste that would make the text too long is refused whole, with a message (never cut). */
  onPaste(e) {
    const files = e.clipboardData ? [...e.clipboardData.files] : [];
    if (files.length && this.canAttach()) { e.preventDefault(); this.sendFiles(files); return; }
    const pasted = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
    if (!pasted) return;
    const v = this.input.value;
    const next = v.slice(0, this.input.selectionStart) + pasted + v.slice(this.input.selectionEnd);
    if (this.tooLong(next)) e.preventDefault();
  }

  send() {
    const r = this.inbox.current();
    const text = this.input.value.replace(/\s+$/, "");
    if (!this.canWrite(r) || !text.trim()) return;
    if (this.tooLong(text)) return;
    const note = this.isNote(r);
    this.input.value = "";
    this.drafts.delete(r.id);
    this.picker.close();
    // "Assigned to you" has been answered: the notice goes (a transfer's note stays).
    if (!note && r.routed && r.routed.kind === "assigned") r.routed = null;
    if (!note) this.stopTyping(r);
    const now = Date.now();
    const item = r.list.addLocal({ id: null, chat_id: r.chatId, type_id: note ? 3 : 1, sender: this.inbox.me.id,
      content: { content: text, timestamp: now }, created_at: now, status: "waiting" }, this.store.noteKey(r));
    r.lastAt = now;
    this.inbox.outbox.add(r, item, note ? "staff_note" : "staff_msg");
    this.inbox.render();
  }

  /** Uploads files to the open chat one after the other; errors (413, 415…) are shown here. */
  async sendFiles(files) {
    const r = this.inbox.current();
    if (!r || !this.canAttach() || !r.chatId) return;
    for (const file of files) {
      const name = file.name || "file";
      this.showError("");
      const hint = document.getElementById("composer-hint");
      hint.textContent = ct("attach.uploading", { name });
      try {
        const data = await upload(r.chatId, file);
        const a = data && data.attachment;
        if (a) {
          const now = Date.now();
          // The uploader's UI has it from the response; the resync puts it in its place.
          r.list.addLocal({ id: null, chat_id: r.chatId, type_id: 2, sender: this.inbox.me.id,
            content: { attachment: a }, created_at: now, status: "sent" }, this.store.noteKey(r));
          r.lastAt = now;
          this.inbox.resync(r);
        }
      } catch (e) {
        this.showError(ct("attach.failed", { name, reason: e.message }));
      } finally {
        this.render();
        this.inbox.render();
      }
    }
  }

  /** Retry of a reply the server refused: it joins the end of the outbox again. */
  retry(r, item) {
    this.inbox.outbox.retry(r, item);
    this.inbox.render();
  }

  onInput() {
    const r = this.inbox.current();
    if (!this.canWrite(r)) return;
    this.drafts.set(r.id, this.input.value);
    if (this.isNote(r)) return; // a note is not typing to the visitor
    const now = Date.now();
    if (this.input.value.trim() && now - this.typingSentAt > TYPING_SEND_EVERY_MS) {
      this.typingSentAt = now;
      this.inbox.socket.emit("user_typing_send", { visitor: r.id });
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(r), TYPING_IDLE_MS);
  }

  stopTyping(r) {
    clearTimeout(this.typingIdle);
    if (!this.typingSentAt) return;
    this.typingSentAt = 0;
    if (r) this.inbox.socket.emit("user_stop_typing_send", { visitor: r.id });
  }
}
