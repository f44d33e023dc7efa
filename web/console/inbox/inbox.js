// The live inbox, assembled: the room store and presence (the state), the server's events and the
// staff member's actions (what changes it), and the views (lists, conversation, thread, composer,
// details, people, my availability). It owns the selection and the one render that every change
// ends with.

import { RoomStore, Status } from "/console/inbox/rooms.js";
import { Presence } from "/console/inbox/presence.js";
import { bindServerEvents } from "/console/inbox/events.js";
import { Actions } from "/console/inbox/actions.js";
import { loadHistory } from "/console/inbox/history.js";
import { ListsView } from "/console/inbox/lists.js";
import { ConversationView } from "/console/inbox/conversation.js";
import { ThreadView } from "/console/inbox/thread.js";
import { Composer } from "/console/inbox/composer.js";
import { DetailsView } from "/console/inbox/details.js";
import { PeopleView } from "/console/inbox/people.js";
import { AvailabilityControl } from "/console/inbox/availability.js";
import { TransferDialog } from "/console/inbox/transfer.js";
import { ReplyOutbox, Resync } from "/console/inbox/outbox.js";
import { bindIssue14Events } from "/console/inbox/events14.js";
import { ReadReceipts, Watching } from "/console/inbox/actions14.js";
import { Panes } from "/console/inbox/panes.js";
import { $ } from "/console/inbox/ui.js";

const LIST_REFRESH_MS = 30000; // "waiting 3 min" and "2 h" age while nothing happens

export class Inbox {
  constructor({ socket, me, notify, toast }) {
    this.socket = socket;
    this.me = me;
    this.isSupervisor = me.role_id === 1 || me.role_id === 2;
    this.notify = notify;       // (kind, title, body, roomId) => void
    this.toast = toast;         // (text, kind) => void
    this.onChange = () => {};
    this.selected = null;
    this.canned = [];                // canned replies [{id, shortcut, text}] (issue 14)
    this.visitorPages = new Map();   // visitor id -> {pages, context} (visitor_page_viewed)
    this.onCannedChanged = null;     // the admin page's list listens
    this.store = new RoomStore(me);
    this.presence = new Presence(me);
    this.actions = new Actions(this);
    this.listsView = new ListsView(this);
    this.conversation = new ConversationView(this);
    this.thread = new ThreadView(this);
    this.composer = new Composer(this);
    this.details = new DetailsView(this);
    this.people = new PeopleView(this);
    this.availability = new AvailabilityControl(this);
    this.transfer = new TransferDialog(this);
    this.outbox = new ReplyOutbox(this);
    this.resyncs = new Resync(this);
    this.receipts = new ReadReceipts(this);
    this.watch = new Watching(this);
    this.panes = new Panes(this);
    bindServerEvents(this);
    bindIssue14Events(this);
    setInterval(() => this.renderLists(), LIST_REFRESH_MS);
  }

  /** The selected room, or null. */
  current() { return this.store.get(this.selected); }

  lists() { return this.store.lists(this.isSupervisor); }

  loadHistory(r) { return loadHistory(this.store, r, () => this.render()); }

  /** Asks for the messages of `r`'s chat after the last one shown (`sync` → `messages_since`). */
  resync(r) { return this.resyncs.run(r); }

  /**
   * `staff_init` arrived: the session is confirmed (the first time, or resumed after a drop).
   * Chats I already had catch up from their last `sequence_num`; replies typed meanwhile go out.
   */
  sessionReady(resume = []) {
    for (const r of resume) this.resync(r);
    this.outbox.setLive(this.socket.isOpen);
  }

  /** The socket's state changed: replies wait while it is not open (until the next staff_init). */
  connectionChanged(state) {
    if (state !== "open") this.outbox.setLive(false);
  }

  staffById(id) {
    if (id === this.me.id) return this.me;
    return this.store.servingStaff(id) || this.presence.staff.get(id) || this.presence.known.get(id) || null;
  }

  /**
   * A staff member's load `{active, max}`: the server's `active_chats` / `max_chats` (staff_init,
   * staff_availability_changed, moved by the claims seen since); mine is what I serve now.
   */
  loadOf(st) {
    if (!st) return null;
    const known = this.presence.staff.get(st.id) || st;
    const max = typeof known.max_chats === "number" ? known.max_chats : null;
    let active = typeof known.active_chats === "number" ? known.active_chats : null;
    if (st.id === this.me.id) active = this.lists().mine.length;
    if (active == null) active = this.store.all().filter((r) => !this.store.isEnded(r) && r.serving.has(st.id)).length;
    return { active, max };
  }

  select(id) {
    const prev = this.current();
    this.selected = id;
    const r = this.current();
    this.composer.switchTo(prev, r);
    this.panes.selected(r);
    if (r) {
      if (!r.list.items.length || (!this.store.isMine(r) && r.status !== Status.QUEUED)) this.loadHistory(r);
    }
    this.render();
    $("thread").scrollTop = $("thread").scrollHeight;
  }

  /** Total for the title badge: unread in my chats plus waiting visitors. */
  get attentionCount() {
    const l = this.lists();
    return l.mine.reduce((n, r) => n + r.unread, 0) + l.queue.length;
  }

  render() {
    this.renderLists();
    this.conversation.render();
    this.thread.render();
    this.renderTyping();
    this.details.render();
    this.renderPeople();
    this.composer.render();
    this.receipts.check();
    this.onChange();
  }

  renderLists() {
    // Unread = visitor messages after staff's read pointer (survives a reload: room.read).
    for (const r of this.store.all()) r.unread = this.store.unreadOf(r);
    this.listsView.render();
  }
  renderThread() { this.thread.render(); }
  renderTyping() { this.thread.renderTyping(); this.renderLists(); }
  renderPeople() { this.people.render(); if (this.transfer.room) this.transfer.renderList(); }
}
