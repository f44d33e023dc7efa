// Admin page, issue 15: the widget's look (setting `widget`: colour, title, greeting, position,
// language, launcher text) over `GET/PATCH /api/v1/settings`, with a live preview that follows
// the form as it is typed, and the snippet to paste into a website with a Copy button. Every
// website picks a change up at its next page view (widget.js reads GET /api/v1/availability).
// The server checks every field: its refusal has one sentence per bad field (`widget.color: …`),
// each shown under its field. Read-only (no Save) for staff who are not admins.

import { el } from "/shared/format.js";
import { api } from "/console/api.js";
import { ct } from "/console/texts.js";

const FIELDS = ["color", "title", "greeting", "position", "language", "launcher_text"];
const DEFAULT_COLOR = "#2f6fed";
const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** The widget's chat bubble icon. */
function chatIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "ws-pv-icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M12 3C6.5 3 2 6.9 2 11.7c0 2.6 1.3 4.9 3.4 6.5L4.6 22l4.1-2.3c1 .3 2.1.4 3.3.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z");
  svg.appendChild(path);
  return svg;
}

/** The snippet a website owner pastes before `</body>`. */
export function snippet(origin = location.origin) {
  return `<script src="${origin}/widget.js" async></script>`;
}

export class WidgetSettings {
  constructor({ toast, readOnly = false, before }) {
    this.toast = toast;
    this.readOnly = readOnly;
    this.dirty = false;
    this.build();
    before.before(this.form);
  }

  build() {
    const field = (name, label, input, help, box = input) => {
      const id = `ws-${name}`;
      input.id = input.id || id;
      input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
      if (this.readOnly) input.disabled = true;
      return [
        el("label", { for: input.id }, label),
        el("div", null, box,
          el("p", { class: "help muted", id: `${id}-help` }, help),
          el("p", { class: "form-error", id: `${id}-error`, role: "alert" })),
      ];
    };
    this.inputs = {
      color: el("input", { type: "text", maxlength: "7", spellcheck: "false", autocomplete: "off", placeholder: DEFAULT_COLOR, class: "ws-hex" }),
      title: el("input", { type: "text", maxlength: "80", placeholder: ct("widget.title_default") }),
      greeting: el("textarea", { rows: "2", maxlength: "500", placeholder: ct("widget.greeting_default") }),
      position: el("select", null,
        el("option", { value: "right" }, ct("widget.right")),
        el("option", { value: "left" }, ct("widget.left"))),
      language: el("select", null,
        el("option", { value: "auto" }, ct("widget.lang_auto")),
        el("option", { value: "en" }, "English"),
        el("option", { value: "de" }, "Deutsch"),
        el("option", { value: "fr" }, "Français"),
        el("option", { value: "es" }, "Español")),
      launcher_text: el("input", { type: "text", maxlength: "40", placeholder: ct("widget.launcher_none") }),
    };
    // A colour picker next to the hex field (the hex field is what is saved).
    this.picker = el("input", { type: "color", id: "ws-color-pick", "aria-label": ct("widget.color_pick"), disabled: this.readOnly });
    this.picker.addEventListener("input", () => { this.inputs.color.value = this.picker.value; this.changed(); });
    const colorField = field("color", ct("widget.color"), this.inputs.color, ct("widget.color_help"),
      el("span", { class: "ws-color" }, this.picker, this.inputs.color));

    this.preview = this.buildPreview();
    this.snippetBox = el("textarea", { id: "ws-snippet", class: "ws-snippet", readonly: true, rows: "2", spellcheck: "false",
      "aria-describedby": "ws-snippet-help" });
    this.snippetBox.value = snippet();
    this.copyBtn = el("button", { type: "button", class: "btn btn-secondary", id: "ws-copy", onclick: () => this.copy() }, ct("widget.copy"));
    this.copyStatus = el("span", { class: "muted", id: "ws-copy-status", role: "status", "aria-live": "polite" });

    this.error = el("p", { class: "form-error", id: "ws-error", role: "alert" });
    this.status = el("span", { class: "muted", id: "ws-status", role: "status" });
    this.saveBtn = el("button", { type: "submit", class: "btn btn-primary", id: "ws-save", hidden: this.readOnly }, ct("widget.save"));

    this.form = el("form", { class: "settings", id: "widget-settings-form", novalidate: true, "aria-labelledby": "ws-heading" },
      el("div", { class: "team-head" }, el("div", null,
        el("h2", { id: "ws-heading" }, ct("widget.settings_title")),
        el("p", { class: "muted" }, ct(this.readOnly ? "widget.read_only" : "widget.settings_intro")))),
      el("div", { class: "settings-card" },
        el("div", { class: "ws-layout" },
          el("div", { class: "settings-grid" },
            colorField,
            field("title", ct("widget.title"), this.inputs.title, ct("widget.title_help")),
            field("greeting", ct("widget.greeting"), this.inputs.greeting, ct("widget.greeting_help")),
            field("position", ct("widget.position"), this.inputs.position, ct("widget.position_help")),
            field("language", ct("widget.language"), this.inputs.language, ct("widget.language_help")),
            field("launcher_text", ct("widget.launcher_text"), this.inputs.launcher_text, ct("widget.launcher_help"))),
          this.preview.root),
        this.error,
        el("div", { class: "settings-actions" }, this.status, this.saveBtn),
        el("div", { class: "ws-embed" },
          el("h3", { class: "card-sub", id: "ws-snippet-title" }, el("label", { for: "ws-snippet" }, ct("widget.snippet_title"))),
          el("p", { class: "help muted", id: "ws-snippet-help" }, ct("widget.snippet_help")),
          this.snippetBox,
          el("div", { class: "settings-actions" }, this.copyStatus, this.copyBtn))));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); if (!this.readOnly) this.save(); });
    this.form.addEventListener("input", (e) => { if (e.target !== this.snippetBox) this.changed(); });
    this.form.addEventListener("change", (e) => { if (e.target !== this.snippetBox) this.changed(); });
  }

  /** A small launcher and panel header, drawn with the form's values (decorative for screen readers). */
  buildPreview() {
    const title = el("span", { class: "ws-pv-title" });
    const greeting = el("p", { class: "ws-pv-greeting" });
    const launcherText = el("span", { class: "ws-pv-ltext" });
    const launcher = el("span", { class: "ws-pv-launcher" }, chatIcon(), launcherText);
    const panel = el("div", { class: "ws-pv-panel" }, el("div", { class: "ws-pv-head" }, title), el("div", { class: "ws-pv-body" }, greeting));
    const stage = el("div", { class: "ws-pv-stage", "aria-hidden": "true" }, panel, launcher);
    const root = el("figure", { class: "ws-preview", id: "ws-preview" }, el("figcaption", { class: "muted" }, ct("widget.preview")), stage);
    return { root, stage, panel, launcher, launcherText, title, greeting };
  }

  renderPreview() {
    const v = this.values();
    const p = this.preview;
    const color = HEX.test(v.color) ? v.color : DEFAULT_COLOR;
    p.root.style.setProperty("--ws-accent", color);
    p.stage.classList.toggle("ws-left", v.position === "left");
    p.title.textContent = v.title || ct("widget.title_default");
    p.greeting.textContent = v.greeting || ct("widget.greeting_default");
    p.launcherText.textContent = v.launcher_text;
    p.launcher.classList.toggle("ws-pill", !!v.launcher_text);
    if (HEX.test(v.color) && v.color.length === 7) this.picker.value = v.color.toLowerCase();
  }

  changed() {
    this.dirty = true;
    this.renderPreview();
  }

  async show() {
    this.error.textContent = "";
    this.snippetBox.value = snippet();
    try {
      const s = await api("/api/v1/settings");
      if (!this.dirty) this.apply((s && s.widget) || {});
    } catch (e) {
      this.error.textContent = e.message;
    }
  }

  apply(w) {
    this.dirty = false;
    for (const f of FIELDS) {
      const input = this.inputs[f];
      const v = typeof w[f] === "string" ? w[f] : "";
      if (input.tagName === "SELECT") input.value = [...input.options].some((o) => o.value === v) ? v : input.options[0].value;
      else input.value = f === "color" ? v || DEFAULT_COLOR : v;
    }
    this.clearErrors();
    this.form.dataset.loaded = "true";
    this.renderPreview();
  }

  values() {
    const out = {};
    for (const f of FIELDS) out[f] = f === "greeting" ? this.inputs[f].value : this.inputs[f].value.trim();
    return out;
  }

  clearErrors() {
    for (const f of FIELDS) {
      this.form.querySelector(`#ws-${f}-error`).textContent = "";
      this.inputs[f].removeAttribute("aria-invalid");
    }
  }

  /** The server's refusal, one sentence per bad field (`widget.color: …`), each under its field. */
  showRefusal(message) {
    const rest = [];
    let first = null;
    for (const part of String(message).split(/(?=widget\.[a-z_]+: )/)) {
      const m = /^widget\.([a-z_]+): /.exec(part);
      const f = m && FIELDS.includes(m[1]) ? m[1] : null;
      if (!f) { if (part.trim()) rest.push(part.trim()); continue; }
      this.form.querySelector(`#ws-${f}-error`).textContent = part.slice(m[0].length).trim();
      this.inputs[f].setAttribute("aria-invalid", "true");
      first = first || this.inputs[f];
    }
    this.error.textContent = rest.join(" ");
    if (first) first.focus();
  }

  async save() {
    this.error.textContent = "";
    this.status.textContent = "";
    this.clearErrors();
    this.saveBtn.disabled = true;
    try {
      const saved = await api("/api/v1/settings", { method: "PATCH", body: { widget: this.values() } });
      if (saved && saved.widget) this.apply(saved.widget);
      this.status.textContent = ct("widget.saved");
      this.toast(ct("widget.saved"));
    } catch (e) {
      this.showRefusal(e.message);
    } finally {
      this.saveBtn.disabled = false;
    }
  }

  /** Copies the snippet; where the clipboard is refused, selects it for Ctrl+C instead. */
  async copy() {
    const text = this.snippetBox.value;
    this.copyStatus.textContent = "";
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      this.copyStatus.textContent = ct("widget.copied");
    } catch {
      this.snippetBox.focus();
      this.snippetBox.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch { /* selected; the user copies */ }
      this.copyStatus.textContent = ct(ok ? "widget.copied" : "widget.copy_selected");
    }
  }
}
