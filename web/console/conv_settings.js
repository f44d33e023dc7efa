// Admin page, issue 14: the conversation settings over `GET/PATCH /api/v1/settings` —
// inactivity (`inactivity_warning_secs`, `inactivity_close_secs`) and the pre-chat form
// (`prechat`: enabled, name and email off/optional/required). The server checks every value;
// its 400 sentence (naming the key) is shown next to the form and nothing changes until it accepts.

import { api } from "/console/api.js";
import { ct } from "/console/texts.js";
import { WidgetSettings } from "/console/widget_settings.js";

const LEVELS = ["off", "optional", "required"];

export class ConversationSettings {
  constructor({ toast }) {
    this.toast = toast;
    this.dirty = false;
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    const form = $("conv-settings-form");
    // Issue 15: the widget's look and its snippet, shown above the conversation settings.
    this.widget = new WidgetSettings({ toast, before: form });
    form.addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    form.addEventListener("input", () => { this.dirty = true; });
    form.addEventListener("change", () => { this.dirty = true; this.renderPrechat(); });
  }

  async show() {
    this.widget.show();
    this.$("cs-error").textContent = "";
    try {
      const s = await api("/api/v1/settings");
      if (!this.dirty) this.apply(s || {});
    } catch (e) {
      this.$("cs-error").textContent = e.message;
    }
  }

  apply(s) {
    const $ = this.$;
    this.dirty = false;
    $("cs-warning").value = s.inactivity_warning_secs ?? 0;
    $("cs-close").value = s.inactivity_close_secs ?? 0;
    $("cs-retention").value = s.retention_days ?? "";
    const p = s.prechat || {};
    $("cs-prechat").checked = !!p.enabled;
    $("cs-name").value = LEVELS.includes(p.name) ? p.name : "optional";
    $("cs-email").value = LEVELS.includes(p.email) ? p.email : "optional";
    $("conv-settings-form").dataset.loaded = "true";
    this.renderPrechat();
  }

  renderPrechat() {
    const on = this.$("cs-prechat").checked;
    this.$("cs-name").disabled = !on;
    this.$("cs-email").disabled = !on;
  }

  body() {
    const $ = this.$;
    // An empty or odd number goes to the server as typed: it names the key it refuses.
    const num = (v) => (v.trim() === "" || !/^-?\d+$/.test(v.trim()) ? v : Number(v));
    return {
      inactivity_warning_secs: num($("cs-warning").value),
      inactivity_close_secs: num($("cs-close").value),
      // Empty: keep forever (null).
      retention_days: $("cs-retention").value.trim() === "" ? null : num($("cs-retention").value),
      prechat: { enabled: $("cs-prechat").checked, name: $("cs-name").value, email: $("cs-email").value },
    };
  }

  async save() {
    const $ = this.$;
    $("cs-error").textContent = "";
    $("cs-status").textContent = "";
    $("cs-save").disabled = true;
    try {
      const saved = await api("/api/v1/settings", { method: "PATCH", body: this.body() });
      if (saved) this.apply(saved);
      $("cs-status").textContent = ct("conv.saved");
      this.toast(ct("conv.saved"));
    } catch (e) {
      $("cs-error").textContent = e.message;
    } finally {
      $("cs-save").disabled = false;
    }
  }
}
