// The sidebar: My chats, Queue, Left a message, Flagged and (supervisors) Team chats, one row per
// chat with its preview, waiting time, unread badge and flag; Alt+ArrowUp/Down moves between
// conversations.

import { el, setChildren, formatAgo, formatWaiting, staffName, visitorName } from "/shared/format.js";
import { Status } from "/console/inbox/rooms.js";
import { $, avatar, PRIORITY } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";
import { previewText } from "/console/inbox/thread.js";
import { tagsOf } from "/console/inbox/actions14.js";
import { ct } from "/console/texts.js";

/** The label of a chat pinned in My chats that is no longer mine. */
const PINNED_LABEL = {
  [Status.TAKEN_OVER]: "Taken over",
  [Status.ENDED]: "Ended",
};

export class ListsView {
  constructor(inbox) {
    this.inbox = inbox;
    document.addEventListener("keydown", (e) => {
      if (!e.altKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
      const l = this.inbox.lists();
      const order = [...l.mine, ...l.queue, ...l.offline, ...l.live].map((r) => r.id);
      if (!order.length) return;
      const i = order.indexOf(this.inbox.selected);
      const next = e.key === "ArrowDown" ? order[(i + 1) % order.length] : order[(i - 1 + order.length) % order.length];
      e.preventDefault();
      this.inbox.select(next);
      const btn = document.querySelector(`[data-room="${CSS.escape(next)}"]`);
      if (btn) btn.focus();
    });
  }

  render() {
    const l = this.inbox.lists();
    this.fill("mine", l.mineShown, "mine");
    this.fill("queue", l.queue, "queue");
    this.fill("offline", l.offline, "offline");
    this.fill("flagged", l.flagged, "flagged");
    $("section-live").hidden = !this.inbox.isSupervisor;
    if (this.inbox.isSupervisor) this.fill("live", l.live, "live");
  }

  /** The open chat's main action: Claim for a waiting chat, the reply box for one I write in. */
  focusMainAction() {
    const claim = $("claim-btn");
    if (!$("claim-bar").hidden && !claim.disabled) { claim.focus(); return; }
    if (!$("composer").hidden) { $("composer-input").focus(); return; }
    $("main-content").focus();
  }

  fill(name, rooms, kind) {
    $(`count-${name}`).textContent = rooms.length ? String(rooms.length) : "";
    $(`empty-${name}`).hidden = rooms.length > 0;
    setChildren($(`list-${name}`), rooms.map((r) => this.item(r, kind)));
  }

  item(r, kind) {
    const { store, me, selected } = this.inbox;
    const last = r.list.last;
    const name = visitorName(r.info);
    const online = this.inbox.presence.isVisitorOnline(r.id);
    const preview = r.typing ? `${r.typing.name === name ? "" : r.typing.name + " "}typing…`
      : last ? `${last.sender === me.id ? "You: " : ""}${previewText(last)}` : "";
    const level = r.info.severity_level || 0;
    const servingNames = [...r.serving.values()].filter((s) => s.id !== me.id).map(staffName);
    const pinned = kind === "mine" && !store.isMine(r);
    const tags = tagsOf(r);
    let sub = null;
    if (kind === "live" || (kind === "flagged" && servingNames.length)) sub = el("span", { class: "item-staff" }, `with ${servingNames.join(", ") || "—"}`);
    if (kind === "queue") sub = el("span", { class: "item-wait" }, formatWaiting(r.queuedAt || r.lastAt));
    // A left message: the contact the visitor gave (visitor_update, pre-chat form) to reply by email.
    if (kind === "offline" && r.info.email) sub = el("span", { class: "item-contact" }, t("contact.left_email", { email: r.info.email }));
    if (pinned) sub = el("span", { class: "item-ended" }, PINNED_LABEL[r.status] || "No longer yours");
    const btn = el("button", {
      type: "button",
      class: `item${selected === r.id ? " item-active" : ""}${r.unread ? " item-unread" : ""}${store.isEnded(r) || pinned ? " item-ended-row" : ""}`,
      "aria-current": selected === r.id ? "true" : null,
      "data-room": r.id,
      "data-status": r.status,
      onclick: (e) => {
        this.inbox.select(r.id);
        // Chosen with the keyboard (Enter/Space: no pointer): focus goes to the chat's main action.
        if (e.detail === 0) this.focusMainAction();
      },
    },
    avatar(name, r.id, online, false, this.inbox.presence.isVisitorAway(r.id)),
    el("span", { class: "item-main" },
      el("span", { class: "item-top" },
        el("span", { class: "item-name" }, name),
        level ? el("span", { class: `flag flag-${level}`, title: `Flagged: ${PRIORITY[level] || level}` }, "⚑", el("span", { class: "sr-only" }, ` flagged ${PRIORITY[level] || level}`)) : null,
        el("span", { class: "item-time" }, r.lastAt ? formatAgo(r.lastAt) : "")),
      el("span", { class: "item-bottom" },
        el("span", { class: `item-preview${r.typing ? " is-typing" : ""}` }, preview),
        r.unread ? el("span", { class: "badge", "aria-label": ct("unread.label", { n: r.unread }) }, String(r.unread)) : null),
      sub,
      tags.length ? el("span", { class: "item-tags", "aria-label": ct("tags.list", { tags: tags.join(", ") }) },
        tags.slice(0, 4).map((tag) => el("span", { class: "chip chip-sm", "aria-hidden": "true" }, tag))) : null));
    return el("li", null, btn);
  }
}
