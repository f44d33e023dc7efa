// Replies that survive the network (issue 12): the ordered outbox of my replies and the resync
// of a chat from the last `sequence_num` this console saw.
//
// Outbox: every reply gets a `client_msg_id` and joins ONE queue (ws.js's `Outbox`), sent one at
// a time in the order typed. While the connection is down (a cut, a server restart) replies wait ("Waiting
// for connection…"); after the reconnect — once `staff_init` says the chat is still mine — they
// go out in order. A lost ack (timeout, drop) resends the same id, which the server stores once.
// Only a refusal takes a reply out of the queue ("Not sent", with Retry).
//
// Resync: `sync {chat_id, after_sequence_num}` answered by `messages_since` (events.js adds
// them). After a reconnect each open chat asks for what it missed instead of reloading
// everything; after each acked reply it asks again, so the reply takes its true place by
// `sequence_num` (the ack carries no message). A server without `sync` gets the REST history.

import { Status } from "/console/inbox/rooms.js";
import { Outbox, AckError, newClientMsgId } from "/shared/ws.js";

/** The shared outbox's entry status, as the thread shows it ("queued" while the link is down). */
const SHOWN = { queued: "waiting", sending: "sending", sent: "sent", failed: "failed" };

/**
 * My replies, one queue for every chat, on the shared ordered `Outbox` (ws.js): sent one at a
 * time with their `client_msg_id`, a lost ack resent with the same id. The console adds when a
 * reply may go (only once `staff_init` confirmed the session: `live`), that a reply to a chat no
 * longer mine is not sent, what a `chat_closed` refusal does to the room, and the resync that
 * puts an acked reply in its place by `sequence_num`.
 */
export class ReplyOutbox {
  constructor(inbox) {
    this.inbox = inbox;
    this.live = false; // the session is confirmed (staff_init) and the socket is open
    this.box = new Outbox({
      send: (event, data, opts) => this.send(event, data, opts),
      isOpen: () => this.live && this.inbox.socket.isOpen,
      onChange: (entry) => this.changed(entry),
    });
  }

  get store() { return this.inbox.store; }

  /**
   * A new reply (a local echo item of `r.list`): queued, and sent when its turn comes. `event`
   * is `staff_msg`, or `staff_note` for an internal note (issue 14; same content and id rules).
   */
  add(r, item, event = "staff_msg") {
    item.clientMsgId = item.clientMsgId || newClientMsgId();
    item.status = "waiting";
    // The id rides inside `data` too (accepted there for staff_msg and staff_note).
    item.entry = this.box.push(event, { visitor: r.id, content: item.content, client_msg_id: item.clientMsgId },
      { clientMsgId: item.clientMsgId, meta: { roomId: r.id, item } });
  }

  /** Retry of a refused reply: it goes to the end of the line, with the same id. */
  retry(r, item) {
    if (item.entry && item.entry.status === "failed") this.box.retry(item.entry);
  }

  /** The connection is confirmed (after staff_init) or lost. */
  setLive(live) {
    this.live = live;
    if (live) this.box.pump();
  }

  async send(event, data, opts) {
    const r = this.store.get(data.visitor);
    // A note may also come from a watcher (not serving the chat) while the chat is open.
    const note = event === "staff_note" && r && r.watched && !this.store.isEnded(r);
    if (!r || (!this.store.isMine(r) && !note)) {
      throw new AckError(r && r.reason ? r.reason : "This chat is no longer yours.", "refused", "not_allowed");
    }
    try {
      return await this.inbox.socket.send(event === "staff_note" ? "staff_note" : "staff_msg", data, opts);
    } catch (e) {
      if (e.kind === "refused" && e.code === "chat_closed") this.store.ended(r, "This chat has ended.");
      throw e;
    }
  }

  changed(entry) {
    const { roomId, item } = entry.meta || {};
    if (!item) return;
    item.status = SHOWN[entry.status] || "failed";
    item.error = entry.error;
    const r = this.store.get(roomId);
    if (entry.status === "sent" && r) this.inbox.resync(r);
    if (entry.status === "failed") this.inbox.render();
    else this.inbox.renderThread();
  }
}

/** One `sync` in flight per chat; a request during it runs once more after it. */
export class Resync {
  constructor(inbox) {
    this.inbox = inbox;
    this.running = new Map(); // chat id -> { again: boolean }
  }

  /** Asks the server for the messages of `r`'s chat after the last one this console has. */
  async run(r) {
    if (!r || !r.chatId || r.status === Status.ENDED) return;
    const chatId = r.chatId;
    const busy = this.running.get(chatId);
    if (busy) { busy.again = true; return; }
    const state = { again: false };
    this.running.set(chatId, state);
    try {
      for (let round = 0; round < 5; round++) {
        state.again = false;
        if (r.chatId !== chatId) return;
        try {
          await this.inbox.socket.send("sync", { chat_id: chatId, after_sequence_num: r.list.maxSeq() });
        } catch (e) {
          if (e.kind !== "refused") return; // offline: the next staff_init syncs again
          if (e.code === "chat_closed") return; // staff_init or the end events say what happened
          // A server without `sync` (or a chat I may only read): the stored history instead.
          r.historyLoaded = false;
          await this.inbox.loadHistory(r);
        }
        if (!state.again) return;
      }
    } finally {
      this.running.delete(chatId);
      // Asked again during the last allowed round: one more run soon, so no acked reply is
      // left as a local echo (each run is itself bounded).
      if (state.again && r.chatId === chatId) setTimeout(() => this.run(r), 250);
    }
  }
}
