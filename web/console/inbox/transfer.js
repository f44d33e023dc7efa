// The "Transfer" dialog of an open chat (product.md §8.4): the connected colleagues (not me, not
// already in the chat) with their availability and load, an optional note, `transfer_chat
// {visitor, staff, note?}`. A refusal stays in the dialog with the server's sentence; an unknown
// or offline colleague (`not_online`) leaves the list as the server sees it.

import { el, setChildren, staffName, visitorName, roleName } from "/shared/format.js";
import { Availability } from "/console/inbox/presence.js";
import { $, avatar, staffStateTag } from "/console/inbox/ui.js";
import { loadTag } from "/console/inbox/people.js";
import { t } from "/shared/i18n.js";

export class TransferDialog {
  constructor(inbox) {
    this.inbox = inbox;
    this.room = null;
    this.dialog = $("transfer-dialog");
    $("conv-transfer").addEventListener("click", () => { const r = inbox.current(); if (r) this.open(r); });
    $("transfer-cancel").addEventListener("click", () => this.dialog.close());
    $("transfer-form").addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
    this.dialog.addEventListener("close", () => { this.room = null; $("conv-transfer").focus(); });
  }

  /** Who may get the chat: connected colleagues who do not serve it already; available first. */
  candidates(r) {
    const { presence, me } = this.inbox;
    const rank = (s) => (presence.isStaffAway(s.id) ? 2 : presence.statusOf(s.id) === Availability.AVAILABLE ? 0 : 1);
    return presence.sortedStaff(staffName)
      .filter((s) => s.id !== me.id && !r.serving.has(s.id))
      .sort((a, b) => rank(a) - rank(b));
  }

  open(r) {
    this.room = r;
    $("transfer-intro").textContent = t("transfer.intro", { name: visitorName(r.info) });
    $("transfer-note").value = "";
    $("transfer-error").textContent = "";
    this.renderList();
    this.dialog.showModal();
    const first = this.dialog.querySelector("input[name=transfer-to]:not(:disabled)");
    (first || $("transfer-note")).focus();
  }

  /** The colleagues, again when presence changes while the dialog is open (the choice is kept). */
  renderList() {
    const r = this.room;
    if (!r) return;
    const { presence } = this.inbox;
    const chosen = (this.dialog.querySelector("input[name=transfer-to]:checked") || {}).value;
    const people = this.candidates(r);
    $("transfer-nobody").hidden = people.length > 0;
    $("transfer-submit").disabled = people.length === 0;
    setChildren($("transfer-list"), people.map((s, i) => {
      const id = `transfer-to-${i}`;
      const status = presence.statusOf(s.id);
      return el("li", { class: "transfer-option", "data-staff": s.id, "data-availability": status },
        el("input", { type: "radio", name: "transfer-to", id, value: s.id, checked: s.id === chosen ? true : null }),
        el("label", { for: id },
          avatar(staffName(s), s.id, true, true, presence.isStaffAway(s.id) || status === Availability.AWAY, s.avatar_url),
          el("span", { class: "person-main" },
            el("span", { class: "person-name" }, staffName(s)),
            el("span", { class: "person-sub" }, staffStateTag(presence, s.id), ` · ${roleName(s.role_id)}`)),
          loadTag(this.inbox.loadOf(s))));
    }));
  }

  async submit() {
    const r = this.room;
    if (!r) return;
    const err = $("transfer-error");
    err.textContent = "";
    const picked = this.dialog.querySelector("input[name=transfer-to]:checked");
    if (!picked) { err.textContent = t("transfer.pick"); const f = this.dialog.querySelector("input[name=transfer-to]"); if (f) f.focus(); return; }
    const to = this.inbox.presence.staff.get(picked.value) || { id: picked.value };
    const note = $("transfer-note").value.trim();
    const data = { visitor: r.id, staff: to.id };
    if (note) data.note = note;
    const btn = $("transfer-submit");
    btn.disabled = true;
    try {
      await this.inbox.socket.send("transfer_chat", data);
      this.dialog.close();
      // The ack is all the sender hears (chat_transferred goes to the one it was taken from and
      // to supervisors): move the chat, note it and count the load here, once.
      const { store, presence, me } = this.inbox;
      const fromId = store.servedByMe(r) ? me.id : [...r.serving.keys()][0];
      const from = fromId === me.id ? me : this.inbox.staffById(fromId);
      store.transferred(r, fromId, to);
      const text = t("sys.transfer", { from: from ? staffName(from) : t("sys.someone"), to: staffName(to) });
      if (!r.notes.some((n) => n.text === text)) store.addNote(r, text);
      presence.addChats(to.id, 1);
      if (fromId && fromId !== me.id) presence.addChats(fromId, -1);
      this.inbox.toast(t("transfer.done", { name: visitorName(r.info), to: staffName(to) }));
      if (!store.isMine(r) && !this.inbox.isSupervisor && this.inbox.selected === r.id) this.inbox.select(null);
      this.inbox.render();
    } catch (e) {
      err.textContent = e.message;
      // The server does not see that colleague online: take them off the list.
      if (e.code === "not_online") { this.inbox.presence.staffOffline(to.id); this.renderList(); this.inbox.renderPeople(); }
    } finally {
      btn.disabled = false;
    }
  }
}
