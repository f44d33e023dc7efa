// The reply box: drafts per chat, Enter to send (Shift+Enter for a new line), the local echo
// handed to the ordered outbox (outbox.js: "Waiting for connection… / Sending… / Sent / Not
// sent" and Retry), and the typing signals to the room.

const TYPING_SEND_EVERY_MS = 4000;
const TYPING_IDLE_MS = 2500;

export class Composer {
  constructor(inbox) {
    this.inbox = inbox;
    this.drafts = new Map();
    this.typingSentAt = 0;
    this.typingIdle = null;
    this.input = document.getElementById("composer-input");
    document.getElementById("composer").addEventListener("submit", (e) => { e.preventDefault(); this.send(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
    });
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("blur", () => this.stopTyping(this.inbox.current()));
  }

  get store() { return this.inbox.store; }

  /** The selected chat changed: stop signalling typing in the old one, show the new one's draft. */
  switchTo(prev, next) {
    if (prev && prev !== next) this.stopTyping(prev);
    this.input.value = (next && this.drafts.get(next.id)) || "";
  }

  send() {
    const r = this.inbox.current();
    const text = this.input.value.replace(/\s+$/, "");
    if (!r || !this.store.isMine(r) || !text.trim()) return;
    this.input.value = "";
    this.drafts.delete(r.id);
    // "Assigned to you" has been answered: the notice goes (a transfer's note stays).
    if (r.routed && r.routed.kind === "assigned") r.routed = null;
    this.stopTyping(r);
    const now = Date.now();
    const item = r.list.addLocal({ id: null, chat_id: r.chatId, type_id: 1, sender: this.inbox.me.id,
      content: { content: text, timestamp: now }, created_at: now, status: "waiting" }, this.store.noteKey(r));
    r.lastAt = now;
    this.inbox.outbox.add(r, item);
    this.inbox.render();
  }

  /** Retry of a reply the server refused: it joins the end of the outbox again. */
  retry(r, item) {
    this.inbox.outbox.retry(r, item);
    this.inbox.render();
  }

  onInput() {
    const r = this.inbox.current();
    if (!r || !this.store.isMine(r)) return;
    this.drafts.set(r.id, this.input.value);
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
