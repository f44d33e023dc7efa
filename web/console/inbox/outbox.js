// Replies that survive the network (issue 12): the ordered outbox of my replies and the resync
// of a chat from the last `sequence_num` this console saw.
//
// Outbox: every reply gets a `client_msg_id` and joins ONE queue, sent one at a time in the
// order typed. While the connection is down (a cut, a server restart) replies wait ("Waiting
// for connection…"); after the reconnect — once `staff_init` says the chat is still mine — they
// go out in order. A lost ack (timeout, drop) resends the same id, which the server stores once.
// Only a refusal takes a reply out of the queue ("Not sent", with Retry).
//
// Resync: `sync {chat_id, after_sequence_num}` answered by `messages_since` (events.js adds
// them). After a reconnect each open chat asks for what it missed instead of reloading
// everything; after each acked reply it asks again, so the reply takes its true place by
// `sequence_num` (the ack carries no message). A server without `sync` gets the REST history.

import { Status } from "/console/inbox/rooms.js";

const RETRY_AFTER_TIMEOUT_MS = 1000;

let counter = 0;
/** A client message id: unique per console page (1–64 chars). */
function newClientMsgId() {
  counter += 1;
  const rnd = (globalThis.crypto && crypto.randomUUID) ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `c-${rnd}-${counter}`.slice(0, 64);
}

export class Outbox {
  constructor(inbox) {
    this.inbox = inbox;
    this.queue = [];        // [{ roomId, item }] in the order typed
    this.flushing = false;
    this.live = false;      // the session is confirmed (staff_init) and the socket is open
    this.retryTimer = null;
  }

  get store() { return this.inbox.store; }
  get socket() { return this.inbox.socket; }

  /** A new reply (a local echo item of `r.list`): queued, and sent when its turn comes. */
  add(r, item) {
    item.clientMsgId = item.clientMsgId || newClientMsgId();
    item.status = this.live ? "sending" : "waiting";
    this.queue.push({ roomId: r.id, item });
    this.flush();
  }

  /** Retry of a refused reply: it goes to the end of the line, with the same id. */
  retry(r, item) {
    if (this.queue.some((q) => q.item === item)) return;
    item.error = null;
    this.add(r, item);
  }

  /** How many replies wait for the connection (shown by the thread). */
  waitingFor(r) { return this.queue.filter((q) => q.roomId === r.id).length; }

  /** The connection is confirmed (after staff_init) or lost. */
  setLive(live) {
    this.live = live;
    if (!live) {
      for (const { item } of this.queue) item.status = "waiting";
      return;
    }
    this.flush();
  }

  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    clearTimeout(this.retryTimer);
    try {
      // Bounded: each turn takes one reply off the queue or stops.
      for (let turns = this.queue.length * 2 + 1; turns > 0 && this.queue.length && this.live; turns--) {
        const { roomId, item } = this.queue[0];
        const r = this.store.get(roomId);
        if (!r || !this.store.isMine(r)) {
          this.queue.shift();
          this.fail(r, item, r && r.reason ? r.reason : "This chat is no longer yours.");
          continue;
        }
        item.status = "sending";
        this.inbox.renderThread();
        try {
          // The id rides inside `data` too (accepted there for staff_msg): a socket that does
          // not put it at the top of the frame still gets the resend stored once.
          await this.socket.send("staff_msg", { visitor: r.id, content: item.content, client_msg_id: item.clientMsgId },
            { clientMsgId: item.clientMsgId });
          this.queue.shift();
          item.status = "sent";
          this.inbox.resync(r);
          this.inbox.renderThread();
        } catch (e) {
          if (e.kind === "refused") {
            this.queue.shift();
            if (e.code === "chat_closed") this.store.ended(r, "This chat has ended.");
            this.fail(r, item, e.message);
            continue;
          }
          // Offline or no ack: the reply stays first in line and is resent with the same id
          // (stored once) when the connection is back — or in a moment if it still is.
          item.status = "waiting";
          this.inbox.renderThread();
          if (e.kind === "timeout" && this.live) this.retryTimer = setTimeout(() => this.flush(), RETRY_AFTER_TIMEOUT_MS);
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  fail(r, item, error) {
    item.status = "failed";
    item.error = error;
    if (r) this.inbox.render();
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
    }
  }
}
