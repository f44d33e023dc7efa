// What the staff member does in a chat, issue 14: mark it read (`message_read`, while the chat
// is open and the tab visible), watch it (`watch_chat` / `unwatch_chat`, supervisors and admins)
// and tag it (`tag_chat`). Each sends one acked event; a refusal shows the server's sentence.

import { ct } from "/console/texts.js";

/** Sends `message_read` for the open chat's highest visitor message, once per new message. */
export class ReadReceipts {
  constructor(inbox) {
    this.inbox = inbox;
    this.asked = new Map(); // room id -> the sequence_num asked for last
    document.addEventListener("visibilitychange", () => this.check());
    window.addEventListener("focus", () => this.check());
  }

  check() {
    const { store, socket } = this.inbox;
    const r = this.inbox.current();
    if (!r || document.visibilityState !== "visible" || !socket.isOpen) return;
    if (store.isEnded(r) || !(store.isMine(r) || r.watched)) return;
    const seq = store.lastVisitorSeq(r);
    if (seq <= r.read.staff || seq <= (this.asked.get(r.id) || 0)) return;
    this.asked.set(r.id, seq);
    socket.send("message_read", { visitor: r.id, sequence_num: seq }).then(() => {
      store.seen(r, null, seq);
      this.inbox.renderLists();
      this.inbox.onChange();
    }, (e) => {
      // Lost (timeout, offline): a later look asks again. Refused: not again for this message.
      if (e.kind !== "refused" && this.asked.get(r.id) === seq) this.asked.delete(r.id);
    });
  }
}

export class Watching {
  constructor(inbox) {
    this.inbox = inbox;
  }

  async start(r) {
    try {
      await this.inbox.socket.send("watch_chat", { visitor: r.id });
      // chat_watched (on this connection) brings the room and its messages.
      r.watched = true;
      this.inbox.render();
    } catch (e) { this.inbox.toast(e.message, "error"); }
  }

  async stop(r) {
    try {
      await this.inbox.socket.send("unwatch_chat", { visitor: r.id });
    } catch (e) {
      // Refused: not watching (any more) — the same outcome.
      if (e.kind !== "refused") { this.inbox.toast(e.message, "error"); return; }
    }
    r.watched = false;
    this.inbox.toast(ct("watch.ended"));
    this.inbox.render();
  }

  /** After a reconnect: the new connection asks to watch again (refused if the chat closed). */
  async resume(r) {
    try {
      await this.inbox.socket.send("watch_chat", { visitor: r.id });
    } catch (e) {
      if (e.kind === "refused" && e.code !== "not_allowed") { r.watched = false; this.inbox.render(); }
    }
  }
}

/** The tags of a room as strings. */
export function tagsOf(r) {
  const tags = (r && r.info && r.info.tags) || [];
  return tags.map((t) => (typeof t === "string" ? t : t && t.name)).filter((t) => typeof t === "string" && t);
}

export async function setTags(inbox, r, tags) {
  await inbox.socket.send("tag_chat", { visitor: r.id, tags });
  // Every console (this one too) gets chat_tags_changed; until then show what was accepted.
  r.info.tags = tags;
  inbox.render();
}
