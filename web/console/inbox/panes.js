// Narrow screens (issue 14): under 760 px the inbox shows one pane at a time — the chat lists,
// or the open conversation with a "← Chats" button — and under 1180 px the details column
// (visitor, tags, people) opens as a drawer from the conversation's "Details" button. Nothing
// sticks out sideways at 390 px.

import { $ } from "/console/inbox/ui.js";

const NARROW = "(max-width: 760px)";

export class Panes {
  constructor(inbox) {
    this.inbox = inbox;
    this.view = $("inbox-view");
    this.view.dataset.pane = "list";
    $("pane-back").addEventListener("click", () => {
      this.view.dataset.pane = "list";
      this.setDetails(false);
      const btn = this.inbox.selected && document.querySelector(`[data-room="${CSS.escape(this.inbox.selected)}"]`);
      if (btn) btn.focus();
    });
    $("details-toggle").addEventListener("click", () => this.setDetails(this.view.dataset.details !== "open"));
    $("details-close").addEventListener("click", () => { this.setDetails(false); $("details-toggle").focus(); });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.view.dataset.details === "open" && !document.querySelector("dialog[open]")) {
        this.setDetails(false);
        $("details-toggle").focus();
      }
    });
  }

  get narrow() { return window.matchMedia(NARROW).matches; }

  /** A chat was chosen (or none): on a phone the conversation takes the screen. */
  selected(r) {
    this.view.dataset.pane = r ? "conv" : "list";
    if (!r) this.setDetails(false);
  }

  setDetails(open) {
    this.view.dataset.details = open ? "open" : "closed";
    $("details-toggle").setAttribute("aria-expanded", String(open));
    if (open) { this.inbox.details.render(); $("details-close").focus(); }
  }
}
