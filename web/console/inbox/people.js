// The "Team online" and "Visitors online" cards: each colleague with availability, role and load, each
// visitor with what they are doing (browsing, waiting, chatting with whom).

import { el, setChildren, staffName, visitorName, roleName } from "/shared/format.js";
import { Status } from "/console/inbox/rooms.js";
import { Availability } from "/console/inbox/presence.js";
import { $, avatar, staffStateTag } from "/console/inbox/ui.js";
import { t } from "/shared/i18n.js";

export class PeopleView {
  constructor(inbox) {
    this.inbox = inbox;
  }

  render() {
    const { store, presence, me } = this.inbox;
    const staff = presence.sortedStaff(staffName);
    $("count-staff").textContent = String(staff.length);
    setChildren($("online-staff"), staff.map((s) => {
      const status = presence.statusOf(s.id);
      const gone = presence.isStaffAway(s.id);
      return el("li", { class: "person", "data-staff": s.id, "data-availability": status, "data-connection": gone ? "lost" : null },
        avatar(staffName(s), s.id, true, true, gone || status === Availability.AWAY, s.avatar_url),
        el("span", { class: "person-main" },
          el("span", { class: "person-name" }, staffName(s) + (s.id === me.id ? " (you)" : "")),
          el("span", { class: "person-sub" }, staffStateTag(presence, s.id), ` · ${roleName(s.role_id)}`)),
        loadTag(this.inbox.loadOf(s)));
    }));
    const visitors = [...presence.visitors.values()];
    $("count-visitors").textContent = String(visitors.length);
    $("empty-visitors").hidden = visitors.length > 0;
    setChildren($("online-visitors"), visitors.map((v) => {
      const r = store.get(v.id);
      let status = "Browsing";
      if (presence.isVisitorAway(v.id)) status = "Offline for now (connection lost)";
      else if (r && store.isMine(r)) status = "Chatting with you";
      else if (r && r.status === Status.QUEUED) status = "Waiting in queue";
      else if (r && r.serving.size && !store.isEnded(r)) status = `Chatting with ${[...r.serving.values()].map(staffName).join(", ")}`;
      const inner = [avatar(visitorName(v), v.id, true, true, presence.isVisitorAway(v.id)),
        el("span", { class: "person-main" }, el("span", { class: "person-name" }, visitorName(v)), el("span", { class: "person-sub" }, status))];
      return el("li", { class: "person" }, r ? el("button", { type: "button", class: "person-btn", onclick: () => this.inbox.select(v.id) }, inner) : inner);
    }));
  }
}

/** A colleague's load as "2/3" (active chats of their maximum); screen readers hear "2 of 3 chats". */
export function loadTag(load) {
  if (!load) return null;
  const full = load.max != null && load.active >= load.max;
  if (load.max == null) return el("span", { class: "load", "data-load": String(load.active) }, String(load.active));
  return el("span", { class: `load${full ? " load-full" : ""}`, "data-load": `${load.active}/${load.max}`,
    title: t("team.load_label", { active: load.active, max: load.max }) },
  el("span", { "aria-hidden": "true" }, t("team.load", { active: load.active, max: load.max })),
  el("span", { class: "sr-only" }, t("team.load_label", { active: load.active, max: load.max })));
}
