// The History page (issue 16): every conversation the signed-in staff member may see, past and
// present, over `GET /api/v1/chats` — a search over what was written (`q`), filters (open or
// ended, who served it, tag, rating, dates) and pages — and any of them opened read-only with
// its notes and files (`/api/v1/chats/{id}/messages`), with the visitor's other chats beside it.
// The server decides who sees what; this page only shows what it answers.

import { el, setChildren, formatFull, contentText, staffName, visitorName, toMs, linkify } from "/shared/format.js";
import { api } from "/console/api.js";
import { t, addTexts } from "/shared/i18n.js";
import { noteRow, dayLabel } from "/console/inbox/ui.js";
import { attachmentOf, attachmentView } from "/console/inbox/attachments.js";
import { systemText } from "/console/inbox/thread.js";
import { ct } from "/console/texts.js";
import { getToken } from "/console/api.js";

addTexts("en", {
  "nav.history": "History",
  "history.title": "All conversations",
  "history.search": "Search messages",
  "history.search_placeholder": "Words from the conversation…",
  "history.search_button": "Search",
  "history.status": "Status",
  "history.any": "Any",
  "history.open": "Open",
  "history.ended": "Ended",
  "history.staff": "Served by",
  "history.anyone": "Anyone",
  "history.me": "Me",
  "history.tag": "Tag",
  "history.rating": "Rating",
  "history.good": "Good",
  "history.bad": "Bad",
  "history.from": "From",
  "history.to": "To",
  "history.clear": "Clear",
  "history.none": "No conversation matches.",
  "history.more": "Show more",
  "history.loading": "Loading…",
  "history.count": "{n} messages",
  "history.pick": "Choose a conversation to read it.",
  "history.started": "Started {at}",
  "history.ended_at": "ended {at}",
  "history.open_now": "still open",
  "history.served_by": "Served by {names}",
  "history.nobody": "Nobody served it",
  "history.rated": "Rated {rating}",
  "history.earlier": "The visitor's other conversations",
  "history.earlier_short": "Earlier conversations",
  "history.older": "Show more messages",
  "history.note_by": "Note by {name}",
  "history.list_label": "Conversations found",
});

const PAGE = 25;

export class HistoryView {
  constructor({ me, root }) {
    this.me = me;
    this.root = root;
    this.staff = new Map();
    this.next = null;
    this.current = null;
    this.build();
  }

  build() {
    const $ = (tag, props, ...kids) => el(tag, props, ...kids);
    const select = (id, options) => $("select", { id }, options.map(([v, label]) => $("option", { value: v }, label)));
    this.q = $("input", { type: "search", id: "hs-q", maxlength: "200", placeholder: t("history.search_placeholder"), autocomplete: "off" });
    this.status = select("hs-status", [["", t("history.any")], ["open", t("history.open")], ["ended", t("history.ended")]]);
    this.served = select("hs-staff", [["", t("history.anyone")], [this.me.id, t("history.me")]]);
    this.tag = $("input", { type: "text", id: "hs-tag", maxlength: "32", autocomplete: "off" });
    this.rating = select("hs-rating", [["", t("history.any")], ["good", t("history.good")], ["bad", t("history.bad")]]);
    this.from = $("input", { type: "date", id: "hs-from" });
    this.to = $("input", { type: "date", id: "hs-to" });
    const field = (label, input) => $("div", { class: "hs-field" }, $("label", { for: input.id }, label), input);
    this.error = $("p", { class: "form-error", id: "hs-error", role: "alert" });
    this.list = $("ul", { class: "hs-list", id: "hs-list", "aria-label": t("history.list_label") });
    this.status_line = $("p", { class: "muted hs-status-line", id: "hs-found", role: "status", "aria-live": "polite" });
    this.moreBtn = $("button", { type: "button", class: "btn btn-secondary btn-sm", id: "hs-more", hidden: true, onclick: () => this.load(true) }, t("history.more"));
    this.form = $("form", { class: "hs-form", id: "hs-form", role: "search" },
      $("label", { for: "hs-q", class: "hs-q-label" }, t("history.search")),
      $("div", { class: "hs-q-row" }, this.q, $("button", { type: "submit", class: "btn btn-primary btn-sm" }, t("history.search_button"))),
      $("div", { class: "hs-filters" },
        field(t("history.status"), this.status), field(t("history.staff"), this.served), field(t("history.tag"), this.tag),
        field(t("history.rating"), this.rating), field(t("history.from"), this.from), field(t("history.to"), this.to)),
      $("button", { type: "button", class: "link-btn", id: "hs-clear", onclick: () => this.clear() }, t("history.clear")));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.load(false); });
    this.form.addEventListener("change", (e) => { if (e.target !== this.q && e.target !== this.tag) this.load(false); });
    this.pane = $("section", { class: "hs-pane", id: "hs-pane", "aria-label": t("history.title"), tabindex: "-1" },
      $("p", { class: "muted hs-pick" }, t("history.pick")));
    setChildren(this.root,
      $("aside", { class: "hs-side" }, $("h1", { class: "hs-title" }, t("history.title")), this.form, this.error, this.status_line, this.list, this.moreBtn),
      this.pane);
  }

  async show() {
    if (!this.staff.size) {
      try {
        const data = await api("/api/v1/staff");
        for (const s of (data && (data.results || data)) || []) this.staff.set(s.id, s);
        for (const s of [...this.staff.values()].sort((a, b) => staffName(a).localeCompare(staffName(b)))) {
          if (s.id !== this.me.id) this.served.append(el("option", { value: s.id }, staffName(s)));
        }
      } catch { /* names fall back to "Someone" */ }
    }
    if (!this.loaded) this.load(false);
  }

  clear() {
    this.form.reset();
    this.load(false);
  }

  query() {
    const p = new URLSearchParams();
    const q = this.q.value.trim();
    if (q) p.set("q", q);
    if (this.status.value) p.set("status", this.status.value);
    if (this.served.value) p.set("staff", this.served.value);
    if (this.tag.value.trim()) p.set("tag", this.tag.value.trim());
    if (this.rating.value) p.set("rating", this.rating.value);
    // Dates are the staff member's own days: from the start of "from" to the end of "to".
    if (this.from.value) p.set("since", String(new Date(`${this.from.value}T00:00:00`).getTime()));
    if (this.to.value) p.set("until", String(new Date(`${this.to.value}T00:00:00`).getTime() + 86400000));
    p.set("limit", String(PAGE));
    return p;
  }

  async load(more) {
    this.loaded = true;
    this.error.textContent = "";
    const p = this.query();
    if (more && this.next) p.set("cursor", this.next);
    const seq = (this.seq = (this.seq || 0) + 1);
    if (!more) this.status_line.textContent = t("history.loading");
    let page;
    try {
      page = await api(`/api/v1/chats?${p}`);
    } catch (e) {
      if (seq !== this.seq) return;
      this.error.textContent = e.message;
      this.status_line.textContent = "";
      return;
    }
    if (seq !== this.seq) return;
    const rows = (page.results || []).map((c) => this.item(c));
    if (more) this.list.append(...rows); else setChildren(this.list, rows);
    this.next = page.next || null;
    this.moreBtn.hidden = !this.next;
    this.status_line.textContent = this.list.children.length ? "" : t("history.none");
  }

  item(c) {
    const hit = c.hit && c.hit.text;
    const ended = c.status === "ended";
    const btn = el("button", { type: "button", class: "item", "data-chat": c.id, onclick: () => this.open(c) },
      el("span", { class: "item-main" },
        el("span", { class: "item-top" },
          el("span", { class: "item-name" }, visitorName(c.visitor)),
          el("time", { class: "item-time", datetime: new Date(toMs(c.created_at)).toISOString() }, formatFull(c.created_at))),
        el("span", { class: "item-bottom" },
          el("span", { class: "item-preview" }, hit || t("history.count", { n: c.message_count ?? 0 }))),
        el("span", { class: "item-bottom hs-meta" },
          el("span", { class: `status-chip ${ended ? "status-off" : "status-on"}` }, t(ended ? "history.ended" : "history.open")),
          c.rating ? el("span", { class: "hs-rating" }, t("history.rated", { rating: t(`history.${c.rating.value}`) })) : null,
          ...(c.tags || []).map((tag) => el("span", { class: "tag" }, tag)))));
    return el("li", null, btn);
  }

  nameOf(id) {
    if (id === this.me.id) return staffName(this.me);
    const s = this.staff.get(id);
    return s ? staffName(s) : t("sys.someone");
  }

  /** Opens a chat by its id (a link such as `#/history?chat=ID`). */
  async openId(id) {
    try {
      this.open(await api(`/api/v1/chats/${encodeURIComponent(id)}`));
    } catch (e) {
      this.error.textContent = e.message;
    }
  }

  async open(c) {
    this.current = c;
    for (const b of this.list.querySelectorAll(".item")) b.classList.toggle("item-active", b.dataset.chat === c.id);
    const who = c.participants && c.participants.length
      ? t("history.served_by", { names: c.participants.map((id) => this.nameOf(id)).join(", ") })
      : t("history.nobody");
    const when = `${t("history.started", { at: formatFull(c.created_at) })} · ${c.ended_at ? t("history.ended_at", { at: formatFull(c.ended_at) }) : t("history.open_now")}`;
    this.thread = el("ol", { class: "thread hs-thread", id: "hs-thread", "aria-label": visitorName(c.visitor), tabindex: "0" });
    this.olderBtn = el("button", { type: "button", class: "btn btn-secondary btn-sm", id: "hs-older", hidden: true, onclick: () => this.loadMessages() }, t("history.older"));
    this.earlier = el("ul", { class: "hs-earlier", id: "hs-earlier" });
    setChildren(this.pane,
      el("header", { class: "hs-head" },
        el("h2", { id: "hs-name" }, visitorName(c.visitor)),
        c.visitor && c.visitor.email ? el("p", { class: "muted" }, c.visitor.email) : null,
        el("p", { class: "muted" }, when),
        el("p", { class: "muted" }, who),
        c.rating ? el("p", { class: "hs-rating" }, t("history.rated", { rating: t(`history.${c.rating.value}`) }), c.rating.comment ? ` — “${c.rating.comment}”` : "") : null,
        (c.tags || []).length ? el("p", null, ...(c.tags || []).map((tag) => el("span", { class: "tag" }, tag))) : null),
      this.thread, this.olderBtn,
      el("section", { class: "hs-others", "aria-labelledby": "hs-earlier-title" },
        el("h3", { class: "card-sub", id: "hs-earlier-title" }, t("history.earlier")), this.earlier),
      this.privacyCard(c));
    this.after = 0;
    this.lastDay = "";
    await this.loadMessages();
    this.pane.focus();
    this.loadEarlier(c);
  }

  async loadMessages() {
    const c = this.current;
    let page;
    try {
      page = await api(`/api/v1/chats/${encodeURIComponent(c.id)}/messages?after=${this.after}&limit=200`);
    } catch (e) {
      this.thread.append(el("li", { class: "form-error" }, e.message));
      return;
    }
    if (this.current !== c) return;
    for (const m of page.results || []) {
      this.after = m.sequence_num;
      const day = new Date(toMs(m.created_at)).toDateString();
      if (day !== this.lastDay) { this.thread.append(el("li", { class: "day" }, el("span", null, dayLabel(m.created_at)))); this.lastDay = day; }
      this.thread.append(this.row(m, c));
    }
    this.olderBtn.hidden = !page.next;
  }

  row(m, c) {
    if (m.type_id === 0) return noteRow(systemText(m, m.sender ? this.nameOf(m.sender) : t("sys.someone"), (id) => this.nameOf(id)), m.created_at);
    const fromVisitor = m.sender == null;
    const isNote = m.type_id === 3;
    const name = fromVisitor ? visitorName(c.visitor) : this.nameOf(m.sender);
    const a = attachmentOf(m);
    return el("li", { class: `msg ${fromVisitor ? "msg-visitor" : "msg-staff"}${isNote ? " msg-note" : ""}${a ? " msg-file" : ""}`, "data-seq": String(m.sequence_num), "data-type": String(m.type_id) },
      el("span", { class: "msg-who" }, isNote ? t("history.note_by", { name }) : name),
      el("div", { class: "bubble" }, a ? attachmentView(a) : linkify(contentText(m.content))),
      el("span", { class: "msg-meta" }, el("time", { datetime: new Date(toMs(m.created_at)).toISOString() }, formatFull(m.created_at))));
  }

  async loadEarlier(c) {
    if (!c.visitor || !c.visitor.id) return;
    let page;
    try { page = await api(`/api/v1/visitors/${encodeURIComponent(c.visitor.id)}/chats?limit=10`); } catch { return; }
    if (this.current !== c) return;
    const others = (page.results || []).filter((o) => o.id !== c.id);
    setChildren(this.earlier, others.length
      ? others.map((o) => el("li", null, el("button", { type: "button", class: "link-btn", onclick: () => this.open(o) },
        `${formatFull(o.created_at)} · ${t("history.count", { n: o.message_count ?? 0 })}`)))
      : [el("li", { class: "muted" }, "—")]);
  }

  // ---- data protection (issue 16; admins): export, delete ------------------------------------

  /** The visitor's data: "Export data" and "Delete visitor and all their data", for admins. */
  privacyCard(c) {
    if (this.me.role_id !== 1 || !c.visitor || !c.visitor.id) return null;
    this.privacyStatus = el("p", { class: "muted", id: "hs-privacy-status", role: "status", "aria-live": "polite" });
    return el("section", { class: "hs-privacy", "aria-labelledby": "hs-privacy-title" },
      el("h3", { class: "card-sub", id: "hs-privacy-title" }, ct("privacy.title")),
      el("p", { class: "muted help", id: "hs-export-help" }, ct("privacy.export_help")),
      el("div", { class: "hs-privacy-actions" },
        el("button", { type: "button", class: "btn btn-secondary btn-sm", id: "hs-export", "aria-describedby": "hs-export-help", onclick: () => this.exportVisitor(c) }, ct("privacy.export")),
        el("button", { type: "button", class: "btn btn-danger btn-sm", id: "hs-delete", onclick: () => this.confirmDelete(c) }, ct("privacy.delete"))),
      this.privacyStatus);
  }

  async exportVisitor(c) {
    const id = c.visitor.id;
    this.privacyStatus.textContent = ct("privacy.exporting");
    try {
      const res = await fetch(`/api/v1/visitors/${encodeURIComponent(id)}/export`, { headers: { Authorization: getToken() || "" } });
      if (!res.ok) {
        let msg = `(${res.status})`;
        try { msg = (await res.json()).error.message; } catch { /* not JSON */ }
        throw new Error(msg);
      }
      const url = URL.createObjectURL(await res.blob());
      const a = el("a", { href: url, download: `visitor-${id}.json`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      this.privacyStatus.textContent = ct("privacy.exported", { name: visitorName(c.visitor) });
    } catch (e) {
      this.privacyStatus.textContent = "";
      this.error.textContent = e.message;
    }
  }

  /** A confirm dialog naming what goes; deleting closes the chat pane and reloads the list. */
  confirmDelete(c) {
    const name = visitorName(c.visitor);
    const error = el("p", { class: "form-error", role: "alert" });
    const cancel = el("button", { type: "button", class: "btn btn-secondary", id: "forget-cancel" }, ct("privacy.cancel"));
    const go = el("button", { type: "submit", class: "btn btn-danger", id: "forget-confirm" }, ct("privacy.confirm_button"));
    const form = el("form", { method: "dialog" },
      el("h2", { id: "forget-title" }, ct("privacy.confirm_title", { name })),
      el("div", { id: "forget-text" },
        el("p", null, ct("privacy.confirm_intro")),
        el("ul", null, ["details", "chats", "files", "more"].map((k) => el("li", null, ct(`privacy.confirm_${k}`)))),
        el("p", null, ct("privacy.confirm_live"))),
      error,
      el("div", { class: "dialog-actions" }, cancel, go));
    const dialog = el("dialog", { id: "forget-dialog", "aria-labelledby": "forget-title", "aria-describedby": "forget-text" }, form);
    const close = () => { dialog.close(); dialog.remove(); document.getElementById("hs-delete")?.focus(); };
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(); });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      go.disabled = true;
      go.textContent = ct("privacy.deleting");
      try {
        await api(`/api/v1/visitors/${encodeURIComponent(c.visitor.id)}`, { method: "DELETE" });
      } catch (err) {
        error.textContent = err.message;
        go.disabled = false;
        go.textContent = ct("privacy.confirm_button");
        return;
      }
      dialog.close();
      dialog.remove();
      this.current = null;
      setChildren(this.pane, el("p", { class: "hs-pick", id: "hs-deleted", role: "status" }, ct("privacy.deleted", { name })));
      this.pane.focus();
      this.load(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  }
}
