// The Audit log page (issue 16; admins): who changed what, newest first, over
// `GET /api/v1/audit?before=&limit=` — settings (old → new, secrets only as "changed"), staff
// accounts, canned replies, visitors' data deleted or exported, retention runs — as a table with
// an "Older" button for the next page. Every value is shown as text (el()), never as HTML.

import { el, setChildren, formatFull } from "/shared/format.js";
import { api } from "/console/api.js";
import { ct } from "/console/texts.js";

const PAGE = 50;

/** A value from the log as a short text. */
function shown(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** Translated, or the raw key when no text exists (an action added later). */
function label(key, fallback, vars) {
  const s = ct(key, vars);
  return s === key ? fallback : s;
}

export class AuditView {
  constructor({ root }) {
    this.root = root;
    this.before = null;
    const $ = (tag, props, ...kids) => el(tag, props, ...kids);
    this.body = $("tbody", { id: "audit-rows" });
    this.status = $("p", { class: "muted", id: "audit-status", role: "status", "aria-live": "polite" });
    this.error = $("p", { class: "form-error", id: "audit-error", role: "alert" });
    this.older = $("button", { type: "button", class: "btn btn-secondary btn-sm", id: "audit-older", hidden: true, onclick: () => this.load(true) }, ct("audit.older"));
    const th = (key) => $("th", { scope: "col" }, ct(key));
    setChildren(this.root, $("div", { class: "team-inner" },
      $("div", { class: "team-head" },
        $("div", null, $("h1", { id: "audit-title" }, ct("audit.title")), $("p", { class: "muted" }, ct("audit.intro")))),
      this.error,
      $("div", { class: "audit-scroll", role: "region", "aria-labelledby": "audit-title", tabindex: "0" },
        $("table", { class: "audit-table", id: "audit-table" },
          $("thead", null, $("tr", null, th("audit.when"), th("audit.who"), th("audit.what"), th("audit.details"))),
          this.body)),
      this.status, this.older));
  }

  show() {
    this.load(false);
  }

  async load(more) {
    this.error.textContent = "";
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (more && this.before) p.set("before", String(this.before));
    const seq = (this.seq = (this.seq || 0) + 1);
    if (!more) this.status.textContent = ct("audit.loading");
    this.older.disabled = true;
    let page;
    try {
      page = await api(`/api/v1/audit?${p}`);
    } catch (e) {
      if (seq === this.seq) { this.error.textContent = e.message; this.status.textContent = ""; }
      return;
    } finally {
      this.older.disabled = false;
    }
    if (seq !== this.seq) return;
    const rows = (page.results || []).map((e) => this.row(e));
    if (more) this.body.append(...rows); else setChildren(this.body, rows);
    this.before = page.next || null;
    this.older.hidden = !this.before;
    this.status.textContent = this.body.children.length ? "" : ct("audit.none");
    if (more && rows.length) rows[0].querySelector("td").focus();
  }

  row(e) {
    const who = e.actor_id ? e.actor_name : ct(e.actor_name === "cli" ? "audit.cli" : "audit.system");
    const what = label(`audit.action.${e.action}`, e.action);
    const target = e.target_kind
      ? label(`audit.target.${e.target_kind}`, `${e.target_kind} ${e.target_id}`, { id: e.target_id || "" })
      : "";
    return el("tr", { "data-action": e.action },
      el("td", { tabindex: "-1" }, el("time", { datetime: new Date(e.at).toISOString() }, formatFull(e.at))),
      el("td", null, who),
      el("td", null, what, target ? el("span", { class: "muted audit-target" }, ` · ${target}`) : null),
      el("td", null, this.details(e)));
  }

  details(e) {
    const d = e.detail || {};
    if (e.action === "retention.run") {
      return ct("audit.retention", { chats: d.chats ?? 0, visitors: d.visitors ?? 0, days: d.retention_days ?? "?" });
    }
    if (d.changes && typeof d.changes === "object") {
      return el("ul", { class: "audit-changes" }, Object.entries(d.changes).map(([key, c]) => el("li", null,
        c && typeof c === "object"
          ? ct("audit.changed", { key, from: shown(c.from), to: shown(c.to) })
          : ct("audit.secret", { key }))));
    }
    if (typeof d.chats === "number") return ct("audit.count", { chats: d.chats });
    if (d.shortcut) return `/${d.shortcut}`;
    if (d.email) return `${d.full_name || ""} <${d.email}> · ${d.role || ""}`;
    return "";
  }
}
