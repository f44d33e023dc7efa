// The canned-reply picker of the reply box (issue 14): typing `/` and letters at the start of a
// word opens a listbox of the replies whose shortcut starts with them (from
// `staff_init.canned_replies`, kept fresh by `canned_replies_changed`). ArrowUp/Down move,
// Enter or Tab put the reply's text in place of `/letters`, Escape closes. The textarea keeps
// the focus; `aria-activedescendant` tells screen readers which option is active.

import { el, setChildren } from "/shared/format.js";

const MAX_OPTIONS = 8;
const TRIGGER = /(^|\s)\/([a-z0-9_-]*)$/i;

export class CannedPicker {
  constructor(composer) {
    this.composer = composer;
    this.input = composer.input;
    this.list = document.getElementById("canned-picker");
    this.items = [];
    this.active = 0;
    this.start = -1; // where "/letters" begins in the text
    this.input.setAttribute("aria-autocomplete", "list");
    this.input.setAttribute("aria-controls", "canned-picker");
  }

  get replies() { return this.composer.inbox.canned || []; }

  get isOpen() { return !this.list.hidden; }

  /** Re-reads the text before the caret: opens, filters or closes the list. */
  update() {
    const caret = this.input.selectionStart;
    if (caret !== this.input.selectionEnd) { this.close(); return; }
    const before = this.input.value.slice(0, caret);
    const m = before.match(TRIGGER);
    if (!m) { this.close(); return; }
    const q = m[2].toLowerCase();
    this.start = caret - m[2].length - 1;
    this.items = this.replies.filter((c) => String(c.shortcut).toLowerCase().startsWith(q)).slice(0, MAX_OPTIONS);
    if (!this.items.length) { this.close(); return; }
    this.active = Math.min(this.active, this.items.length - 1);
    this.render();
  }

  render() {
    setChildren(this.list, this.items.map((c, i) => el("li", {
      id: `canned-opt-${i}`, role: "option", class: `canned-opt${i === this.active ? " canned-opt-active" : ""}`,
      "aria-selected": String(i === this.active),
      onmousedown: (e) => { e.preventDefault(); this.active = i; this.choose(); },
    }, el("span", { class: "canned-key" }, `/${c.shortcut}`), el("span", { class: "canned-text" }, c.text))));
    this.list.hidden = false;
    this.input.setAttribute("aria-activedescendant", `canned-opt-${this.active}`);
    const act = this.list.children[this.active];
    if (act && act.scrollIntoView) act.scrollIntoView({ block: "nearest" });
  }

  close() {
    if (this.list.hidden && !this.items.length) return;
    this.list.hidden = true;
    this.items = [];
    this.active = 0;
    this.input.removeAttribute("aria-activedescendant");
  }

  /** Puts the active reply's text in place of `/letters`. */
  choose() {
    const c = this.items[this.active];
    if (!c) return;
    const v = this.input.value;
    const caret = this.input.selectionStart;
    const start = this.start >= 0 ? this.start : caret;
    this.input.value = v.slice(0, start) + c.text + v.slice(caret);
    const at = start + c.text.length;
    this.input.setSelectionRange(at, at);
    this.close();
    this.input.dispatchEvent(new Event("input"));
    this.close();
  }

  /** Keys while the list is open; true when the key was the picker's. */
  onKey(e) {
    if (!this.isOpen || e.isComposing) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = this.items.length;
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
      return true;
    }
    if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      e.preventDefault();
      this.choose();
      return true;
    }
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      return true;
    }
    return false;
  }
}
