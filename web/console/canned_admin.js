// Admin page, issue 14: canned replies — the list, add, edit, delete over
// `/api/v1/canned-replies`. The server decides what is valid: its sentence is shown next to
// the field it concerns (the shortcut for a 409 or a shortcut error, else the text), and the
// list changes only once it accepted. Other consoles hear `canned_replies_changed`.

import { el, setChildren } from "/shared/format.js";
import { api } from "/console/api.js";
import { ct } from "/console/texts.js";

export class CannedAdmin {
  constructor({ toast }) {
    this.toast = toast;
    this.items = [];
    this.editing = null; // the reply being edited, or null when adding
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    $("canned-form").addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    $("cr-cancel").addEventListener("click", () => this.edit(null));
    for (const id of ["cr-shortcut", "cr-text"]) $(id).addEventListener("input", () => { $(`${id}-error`).textContent = ""; });
  }

  async show() {
    try {
      const data = await api("/api/v1/canned-replies");
      this.items = (data && data.results) || [];
      this.render();
    } catch (e) {
      this.$("cr-text-error").textContent = e.message;
    }
  }

  /** The live list changed (canned_replies_changed): refresh, keeping what is being typed. */
  changed(list) {
    if (!Array.isArray(list)) return;
    this.items = list;
    this.render();
  }

  render() {
    const $ = this.$;
    const sorted = [...this.items].sort((a, b) => String(a.shortcut).localeCompare(String(b.shortcut)));
    $("canned-empty").hidden = sorted.length > 0;
    setChildren($("canned-list"), sorted.map((c) => el("li", { class: "canned-row", "data-shortcut": c.shortcut },
      el("span", { class: "canned-key" }, `/${c.shortcut}`),
      el("span", { class: "canned-text" }, c.text),
      el("span", { class: "cell-actions" },
        el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": `${ct("canned.edit")} /${c.shortcut}`, onclick: () => this.edit(c) }, ct("canned.edit")),
        el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": `${ct("canned.delete")} /${c.shortcut}`, onclick: () => this.remove(c) }, ct("canned.delete"))))));
  }

  edit(c) {
    const $ = this.$;
    this.editing = c;
    $("cr-shortcut").value = c ? c.shortcut : "";
    $("cr-text").value = c ? c.text : "";
    $("cr-shortcut-error").textContent = "";
    $("cr-text-error").textContent = "";
    $("cr-cancel").hidden = !c;
    $("canned-form-title").textContent = c ? ct("canned.edit_title", { shortcut: c.shortcut }) : ct("canned.add");
    if (c) $("cr-text").focus();
  }

  /** Which field a refusal concerns: the shortcut for a duplicate or a shortcut error. */
  fieldOf(e) {
    if (e.status === 409) return "cr-shortcut";
    return /shortcut/i.test(e.message) ? "cr-shortcut" : "cr-text";
  }

  async save() {
    const $ = this.$;
    $("cr-shortcut-error").textContent = "";
    $("cr-text-error").textContent = "";
    const body = { shortcut: $("cr-shortcut").value.trim(), text: $("cr-text").value };
    const btn = $("cr-save");
    btn.disabled = true;
    try {
      const saved = this.editing
        ? await api(`/api/v1/canned-replies/${encodeURIComponent(this.editing.id)}`, { method: "PATCH", body })
        : await api("/api/v1/canned-replies", { method: "POST", body });
      if (saved && saved.id) this.items = [...this.items.filter((c) => c.id !== saved.id), saved];
      this.toast(ct("canned.saved", { shortcut: (saved && saved.shortcut) || body.shortcut }));
      this.edit(null);
      this.render();
      $("cr-shortcut").focus();
    } catch (e) {
      const id = this.fieldOf(e);
      $(`${id}-error`).textContent = e.message;
      $(id).focus();
    } finally {
      btn.disabled = false;
    }
  }

  async remove(c) {
    if (!window.confirm(ct("canned.delete_confirm", { shortcut: c.shortcut }))) return;
    try {
      await api(`/api/v1/canned-replies/${encodeURIComponent(c.id)}`, { method: "DELETE" });
      this.items = this.items.filter((x) => x.id !== c.id);
      if (this.editing && this.editing.id === c.id) this.edit(null);
      this.render();
      this.toast(ct("canned.deleted", { shortcut: c.shortcut }));
    } catch (e) {
      this.toast(e.message, "error");
    }
  }
}
