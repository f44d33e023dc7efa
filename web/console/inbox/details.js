// The details column for the open chat: the visitor's facts, who is in the chat (availability,
// Remove for supervisors) and the "Add a colleague" picker grouped by availability.

import { el, setChildren, formatFull, staffName, visitorName, roleName } from "/shared/format.js";
import { Availability, AVAILABILITY_TEXT } from "/console/inbox/presence.js";
import { $, avatar, staffStateTag, PRIORITY } from "/console/inbox/ui.js";
import { contextView, tickLocalTimes } from "/console/inbox/visitor_context.js";
import { tagsOf, setTags } from "/console/inbox/actions14.js";
import { ct } from "/console/texts.js";
import { api } from "/console/api.js";
import { t } from "/shared/i18n.js";

export class DetailsView {
  constructor(inbox) {
    this.inbox = inbox;
    $("add-staff-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const r = inbox.current();
      const v = $("add-staff-select").value;
      if (r && v) inbox.actions.addStaff(r, v);
    });
    // The tag editor: Enter (or a comma) adds the typed tag, × on a chip removes it.
    $("tag-input").addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === ",") && !e.isComposing) {
        e.preventDefault();
        const r = inbox.current();
        const v = e.target.value.trim();
        if (!r || !v) return;
        this.saveTags(r, [...tagsOf(r), v], () => { e.target.value = ""; });
      }
    });
    $("tag-input").addEventListener("input", () => { $("tag-error").textContent = ""; });
    setInterval(() => tickLocalTimes(), 60000);
  }

  async saveTags(r, tags, done = () => {}) {
    $("tag-error").textContent = "";
    try {
      await setTags(this.inbox, r, tags);
      done();
      $("tag-input").focus();
    } catch (e) {
      $("tag-error").textContent = e.message;
    }
  }

  renderTags(r) {
    const { store } = this.inbox;
    const tags = tagsOf(r);
    const editable = !store.isEnded(r) && !!r.chatId;
    $("tags-card").hidden = !r.chatId;
    $("tag-input").hidden = !editable;
    $("tag-input-label").hidden = !editable;
    $("tag-hint").hidden = !editable;
    setChildren($("tag-list"), tags.length ? tags.map((tag) => el("li", { class: "chip" },
      el("span", null, tag),
      editable ? el("button", { type: "button", class: "chip-x", "aria-label": ct("tags.remove", { tag }),
        onclick: () => this.saveTags(r, tags.filter((x) => x !== tag)) }, "×") : null))
      : el("li", { class: "empty" }, ct("tags.none")));
  }

  /** The visitor's other conversations (as far as this staff member may see them), each a
   * link to it on the History page; asked once per visitor and chat. */
  async renderEarlier(r) {
    const key = `${r.id}:${r.chatId || ""}`;
    if (this.earlierKey === key) return;
    this.earlierKey = key;
    $("visitor-earlier-box").hidden = true;
    let page;
    try { page = await api(`/api/v1/visitors/${encodeURIComponent(r.id)}/chats?limit=6`); } catch { return; }
    if (this.earlierKey !== key) return;
    const others = (page.results || []).filter((c) => c.id !== r.chatId).slice(0, 5);
    $("visitor-earlier-box").hidden = !others.length;
    setChildren($("visitor-earlier"), others.map((c) => el("li", null,
      el("a", { href: `#/history?chat=${encodeURIComponent(c.id)}` },
        `${formatFull(c.created_at)} · ${t("history.count", { n: c.message_count ?? 0 })}`))));
  }

  render() {
    const { store, presence, me, isSupervisor } = this.inbox;
    const r = this.inbox.current();
    $("visitor-card").hidden = !r;
    $("tags-card").hidden = !r;
    $("participants-card").hidden = !r || store.isEnded(r);
    if (!r) return;
    const facts = [
      ["Name", visitorName(r.info)],
      ["Email", r.info.email || "—"],
      ["Status", presence.isVisitorAway(r.id) ? "Offline for now (connection lost)" : presence.isVisitorOnline(r.id) ? "Online" : "Offline"],
      ["Visitor since", r.info.created_at ? formatFull(r.info.created_at) : "—"],
      ["Priority", PRIORITY[r.info.severity_level || 0] || "Not flagged"],
    ];
    const ctx = contextView(this.inbox.visitorPages.get(r.id));
    if (ctx) facts.push(...ctx.facts);
    setChildren($("visitor-facts"), facts.map(([k, v]) => [el("dt", null, k), el("dd", null, v)]));
    $("visitor-pages-box").hidden = !ctx || !ctx.recent.length;
    setChildren($("visitor-pages"), ctx ? ctx.recent : []);
    this.renderTags(r);
    this.renderEarlier(r);

    const serving = [...r.serving.values()];
    const canManage = isSupervisor && !store.isEnded(r) && (serving.length > 0 || store.isMine(r));
    setChildren($("participants"), serving.length ? serving.map((s) => {
      const status = presence.statusOf(s.id);
      const tag = staffStateTag(presence, s.id);
      return el("li", { class: "person", "data-availability": status },
        avatar(staffName(s), s.id, true, true, presence.isStaffAway(s.id) || status === Availability.AWAY, s.avatar_url),
        el("span", { class: "person-main" }, el("span", { class: "person-name" }, staffName(s) + (s.id === me.id ? " (you)" : "")),
          el("span", { class: "person-sub" }, tag ? [tag, " · "] : null, roleName(s.role_id))),
        canManage && s.id !== me.id ? el("button", { type: "button", class: "link-btn", "aria-label": `Remove ${staffName(s)} from this chat`, onclick: () => this.inbox.actions.removeStaff(r, s.id) }, "Remove") : null);
    }) : el("li", { class: "empty" }, "Nobody has claimed this chat yet."));
    // The picker groups online colleagues by availability, available first.
    const addable = [...presence.staff.values()].filter((s) => !r.serving.has(s.id));
    $("add-staff-form").hidden = !canManage || addable.length === 0;
    const option = (s) => el("option", { value: s.id, title: roleName(s.role_id) }, `${staffName(s)}${s.id === me.id ? " (you)" : ""}`);
    setChildren($("add-staff-select"), [Availability.AVAILABLE, Availability.AWAY].map((status) => {
      const group = addable.filter((s) => presence.statusOf(s.id) === status);
      return group.length ? el("optgroup", { label: AVAILABILITY_TEXT[status] }, group.map(option)) : null;
    }));
  }
}
