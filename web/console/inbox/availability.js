// My availability (product.md §8.3): the Available / Away control in the header. A change sends
// `set_availability {status}`; the control follows what the server confirms (the ack, then
// `staff_availability_changed`, and `staff_init` after a reload), and goes back with the
// server's sentence when refused.

import { AVAILABILITY_TEXT } from "/console/inbox/presence.js";
import { $, announce } from "/console/inbox/ui.js";

export class AvailabilityControl {
  constructor(inbox) {
    this.inbox = inbox;
    this.box = $("availability");
    this.pending = null; // the status being set, until its ack
    this.box.addEventListener("change", (e) => {
      if (e.target && e.target.name === "availability") this.set(e.target.value);
    });
  }

  get presence() { return this.inbox.presence; }

  render() {
    const status = this.pending || this.presence.myStatus;
    for (const input of this.box.querySelectorAll("input[name=availability]")) input.checked = input.value === status;
    this.box.dataset.status = status;
  }

  async set(status) {
    if (this.pending || status === this.presence.myStatus) { this.render(); return; }
    this.pending = status;
    this.box.setAttribute("aria-busy", "true");
    try {
      await this.inbox.socket.send("set_availability", { status });
      this.presence.setAvailability(this.inbox.me, status);
      announce(`Your status is now ${AVAILABILITY_TEXT[this.presence.myStatus]}.`);
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
