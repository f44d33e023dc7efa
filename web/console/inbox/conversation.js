// The open conversation's frame: who the visitor is, the buttons the room's status allows (flag,
// take over, leave, close), the banner (ended, taken over, watching) and the claim bar. The
// thread and the reply box are their own files.

import { setChildren, staffName, visitorName, initials, hueFor, formatWaiting } from "/shared/format.js";
import { Status } from "/console/inbox/rooms.js";
import { $ } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";
import { ct } from "/console/texts.js";
import { ratingWords } from "/console/inbox/events14.js";

export class ConversationView {
  constructor(inbox) {
    this.inbox = inbox;
    const act = (fn) => () => { const r = inbox.current(); if (r) fn(r); };
    $("claim-btn").addEventListener("click", act((r) => inbox.actions.claim(r)));
    $("conv-takeover").addEventListener("click", act((r) => inbox.actions.takeOver(r)));
    $("conv-leave").addEventListener("click", act((r) => inbox.actions.leave(r)));
    $("conv-close").addEventListener("click", act((r) => inbox.actions.close(r)));
    $("conv-watch").addEventListener("click", act((r) => inbox.watch.start(r)));
    $("conv-unwatch").addEventListener("click", act((r) => inbox.watch.stop(r)));
    $("conv-priority").addEventListener("change", (e) => {
      const r = inbox.current();
      if (r) inbox.actions.setPriority(r, Number(e.target.value));
    });
  }

  render() {
    const { store, me, isSupervisor } = this.inbox;
    const r = this.inbox.current();
    $("conv-empty").hidden = !!r;
    $("conv").hidden = !r;
    if (!r) return;
    const mine = store.isMine(r);
    const name = visitorName(r.info);
    setChildren($("conv-avatar"), initials(name));
    $("conv-avatar").dataset.hue = String(hueFor(r.id) % 12);
    $("conv-name").textContent = name;
    const { presence } = this.inbox;
    const online = presence.isVisitorOnline(r.id);
    const away = presence.isVisitorAway(r.id);
    const serving = [...r.serving.values()];
    let sub = away ? "Offline for now" : online ? "Online" : "Offline";
    if (r.info.email) sub += ` · ${r.info.email}`;
    if (serving.length && !mine) sub += ` · with ${serving.map(staffName).join(", ")}`;
    $("conv-sub").textContent = sub;
    $("conv").dataset.status = r.status;

    const watching = store.isWatching(r);
    const unclaimed = store.isUnclaimed(r);
    $("conv-priority").value = String(Math.min(3, r.info.severity_level || 0));
    $("conv-priority").disabled = store.isEnded(r);
    $("conv-takeover").hidden = !(isSupervisor && watching && serving.every((s) => s.role_id > me.role_id));
    $("conv-leave").hidden = !mine;
    // Transfer: whoever serves the chat, and supervisors/admins for any chat being served.
    $("conv-transfer").hidden = !(mine || (isSupervisor && watching));
    $("conv-close").hidden = !(r.kept && !mine);
    // Watch (issue 14): supervisors and admins, open chats they do not serve.
    const open = !store.isEnded(r) && !!r.chatId && (unclaimed || r.status === Status.SERVED || r.status === Status.NONE);
    $("conv-watch").hidden = !(isSupervisor && !mine && !r.watched && open);
    $("conv-unwatch").hidden = !(r.watched && !store.isEnded(r));

    const banner = $("conv-banner");
    const lost = r.status === Status.ENDED || r.status === Status.TAKEN_OVER || r.status === Status.REMOVED;
    let text = "";
    let routed = false;
    if (lost) text = r.reason || "";
    else if (mine && r.routed) {
      // Why this chat is mine: routing gave it to me, or a colleague handed it over with a note.
      routed = true;
      const rt = r.routed;
      text = rt.kind === "transfer"
        ? [t("transfer.to_you_note", { from: rt.from ? staffName(rt.from) : t("sys.someone") }), rt.note ? t("transfer.note_quote", { note: rt.note }) : ""].filter(Boolean).join(" ")
        : t("assigned.note");
    }
    else if (r.watched) text = ct("watch.banner");
    else if (r.inactiveWarning && mine) text = r.inactiveWarning;
    else if (watching && isSupervisor) text = `You are watching this chat live. ${serving.map(staffName).join(", ")} ${serving.length > 1 ? "are" : "is"} serving.`;
    else if (watching) text = `${serving.map(staffName).join(", ")} is serving this chat.`;
    banner.textContent = text;
    banner.hidden = !text;
    banner.className = `conv-banner${lost && text ? " conv-banner-ended" : ""}${routed ? " conv-banner-routed" : ""}`;

    // Parties whose connection dropped and who are expected back (visitor_away, staff_away).
    const gone = [];
    if (away && !lost && !store.isEnded(r)) gone.push(`${name} is offline — the chat stays open until they come back.`);
    const awayStaff = serving.filter((s) => s.id !== me.id && presence.isStaffAway(s.id));
    if (awayStaff.length && !lost) gone.push(`${awayStaff.map(staffName).join(", ")} lost connection, back soon.`);
    $("conv-away").textContent = gone.join(" ");
    $("conv-away").hidden = gone.length === 0;

    // The visitor's rating (chat_rated), on the chat while it is on screen.
    const rating = $("conv-rating");
    rating.hidden = !r.rating;
    rating.textContent = r.rating ? ct("rating.line", { name, rating: ratingWords(r.rating.rating) + (r.rating.comment ? ` — “${r.rating.comment}”` : "") }) : "";
    rating.dataset.rating = r.rating ? r.rating.rating : "";

    $("claim-bar").hidden = !unclaimed;
    if (unclaimed) {
      $("claim-text").textContent = r.status === Status.OFFLINE
        ? `${name} left a message while nobody was available${online ? " and is back online" : ""}. Claim it to reply.`
        : `${name} is in the queue (${formatWaiting(r.queuedAt || r.lastAt)}). Claim the chat to reply.`;
    }
    const composer = $("composer");
    const wasHidden = composer.hidden;
    const writes = mine || (r.watched && !store.isEnded(r));
    composer.hidden = !writes;
    if (wasHidden && writes && document.activeElement === document.body) $("composer-input").focus();
  }
}
