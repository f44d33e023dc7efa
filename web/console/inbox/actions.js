// What the staff member does to a chat: claim, take over, leave, flag, add or remove a colleague.
// Each sends one acked event; on success it moves the room, on refusal it shows the server's
// sentence and decides any further step on the ack's stable `code` (never on the sentence; a
// refusal without a code changes nothing).

import { visitorName } from "/shared/format.js";
import { takeoverNote } from "/console/inbox/events.js";
import { $ } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";

export class Actions {
  constructor(inbox) {
    this.inbox = inbox;
  }

  get socket() { return this.inbox.socket; }
  get store() { return this.inbox.store; }

  refused(e) { this.inbox.toast(e.message, "error"); }

  async claim(r) {
    const btn = $("claim-btn");
    btn.disabled = true;
    try {
      await this.socket.send("staff_join", { visitor: r.id });
      this.store.becomeMine(r);
      this.inbox.select(r.id);
      $("composer-input").focus();
    } catch (e) {
      this.refused(e);
      // A colleague was faster: it is not in the queue any more (staff_claim_chat says by whom).
      if (e.code === "already_claimed") this.store.leftQueue(r);
    } finally {
      btn.disabled = false;
      this.inbox.render();
    }
  }

  async takeOver(r) {
    try {
      await this.socket.send("take_over_chat", { visitor: r.id });
      this.store.tookOver(r);
      takeoverNote(this.inbox, r, this.inbox.me);
      this.inbox.loadHistory(r);
      this.inbox.render();
      $("composer-input").focus();
    } catch (e) { this.refused(e); }
  }

  async leave(r) {
    // Leaving a chat routing offered me before I answered passes it on (the server re-offers it).
    const offered = !!(r.routed && r.routed.kind === "assigned");
    try {
      await this.socket.send("staff_leave_room", { visitor: r.id });
      if (offered) {
        const wasMine = this.store.isMine(r);
        this.store.unassigned(r);
        r.routed = null;
        if (wasMine) this.inbox.toast(t("declined.toast", { name: visitorName(r.info) }));
        this.inbox.render();
        return;
      }
      this.store.left(r);
      if (this.inbox.selected === r.id) this.inbox.select(null);
      this.inbox.render();
      this.inbox.toast(`You left the chat with ${visitorName(r.info)}.`);
    } catch (e) { this.refused(e); }
  }

  /** Closes a chat pinned in My chats (ended, taken over or removed). */
  close(r) {
    this.store.unpin(r);
    this.inbox.select(null);
  }

  async setPriority(r, level) {
    const prev = r.info.severity_level || 0;
    try {
      await this.socket.send("change_chat_priority", { visitor: r.id, severity_level: level });
      this.store.setFlag(r, level);
      this.inbox.render();
    } catch (e) {
      $("conv-priority").value = String(prev);
      this.refused(e);
    }
  }

  async addStaff(r, staffId) {
    try {
      await this.socket.send("add_staff_to_chat", { visitor: r.id, staff: staffId });
      const st = this.inbox.presence.staff.get(staffId);
      if (st) this.store.serve(r, st);
      if (staffId === this.inbox.me.id) { this.store.becomeMine(r); this.inbox.loadHistory(r); }
      this.inbox.render();
    } catch (e) { this.refused(e); }
  }

  async removeStaff(r, staffId) {
    try {
      await this.socket.send("remove_staff_from_chat", { visitor: r.id, staff: staffId });
      this.store.removedStaff(r, staffId);
      this.inbox.render();
    } catch (e) { this.refused(e); }
  }
}
