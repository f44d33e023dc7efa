// My availability (product.md §8.3): the "Available" switch in the header. A click (or Space /
// Enter: it is a button with role=switch) sends `set_availability {status}`; the switch follows
// what the server confirms (the ack, then `staff_availability_changed`, and `staff_init` after a
// reload, where the persisted status comes back), and goes back with the server's sentence when
// refused.

import { Availability } from "/console/inbox/presence.js";
import { $, announce } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";

export class AvailabilityControl {
  constructor(inbox) {
    this.inbox = inbox;
    this.box = $("availability");
    this.button = $("availability-switch");
    this.pending = null; // the status being set, until its ack
    this.button.addEventListener("click", () => {
      const now = this.pending || this.presence.myStatus;
      this.set(now === Availability.AVAILABLE ? Availability.AWAY : Availability.AVAILABLE);
    });
  }

  get presence() { return this.inbox.presence; }

  render() {
    const status = this.pending || this.presence.myStatus;
    this.button.setAttribute("aria-checked", String(status === Availability.AVAILABLE));
    this.box.dataset.status = status;
  }

  async set(status) {
    if (this.pending || status === this.presence.myStatus) { this.render(); return; }
    this.pending = status;
    this.box.setAttribute("aria-busy", "true");
    this.render();
    try {
      await this.inbox.socket.send("set_availability", { status });
      this.presence.setAvailability(this.inbox.me, status);
      announce(t("avail.now", { status: t(status === Availability.AVAILABLE ? "avail.on" : "avail.off") }));
    } catch (e) {
      this.inbox.toast(e.message, "error");
    } finally {
      this.pending = null;
      this.box.removeAttribute("aria-busy");
      this.render();
      this.inbox.renderPeople();
    }
  }
}
