// Admin page: staff accounts (create, change role, disable/enable, reset password) over the
// REST staff endpoints (admin only).

import { el, setChildren, staffName, initials, hueFor, formatFull } from "/shared/format.js";
import { api } from "/console/api.js";
import { RoutingSettings } from "/console/settings.js";
import { CannedAdmin } from "/console/canned_admin.js";
import { ConversationSettings } from "/console/conv_settings.js";
import { t } from "/shared/i18n.js";

export class Team {
  constructor({ me, toast }) {
    this.me = me;
    this.toast = toast;
    this.staff = [];
    this.editing = null;
    this.routing = new RoutingSettings({ toast });
    this.canned = new CannedAdmin({ toast });
    this.convSettings = new ConversationSettings({ toast });
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    $("team-new").addEventListener("click", () => this.openCreate());
    $("staff-cancel").addEventListener("click", () => $("staff-dialog").close());
    $("password-cancel").addEventListener("click", () => $("password-dialog").close());
    $("staff-form").addEventListener("submit", (e) => { e.preventDefault(); this.create(); });
    $("password-form").addEventListener("submit", (e) => { e.preventDefault(); this.savePassword(); });
  }

  async show() {
    this.$("team-error").textContent = "";
    this.routing.show();
    this.canned.show();
    this.convSettings.show();
    try {
      const data = await api("/api/v1/staff");
      this.staff = (data && (data.results || data)) || [];
      this.render();
    } catch (e) {
      this.$("team-error").textContent = e.message;
    }
  }

  render() {
    const rows = [...this.staff].sort((a, b) => a.role_id - b.role_id || staffName(a).localeCompare(staffName(b)));
    setChildren(this.$("team-rows"), rows.map((s) => this.row(s)));
  }

  row(s) {
    const self = s.id === this.me.id;
    const role = el("select", { "aria-label": `Role of ${staffName(s)}`, disabled: self ? true : null,
      onchange: (e) => this.patch(s, { role_id: Number(e.target.value) }, `${staffName(s)} is now ${e.target.selectedOptions[0].textContent}.`) },
    [[3, "Agent"], [2, "Supervisor"], [1, "Admin"]].map(([v, t]) => el("option", { value: v, selected: s.role_id === v ? true : null }, t)));
    const status = el("span", { class: `status-chip ${s.disabled ? "status-off" : "status-on"}` }, s.disabled ? "Disabled" : "Active");
    const toggle = el("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: self ? true : null,
      onclick: () => this.patch(s, { disabled: !s.disabled }, `${staffName(s)} ${s.disabled ? "can sign in again" : "can no longer sign in"}.`) },
    s.disabled ? "Enable" : "Disable");
    // Capacity (issue 13): how many chats at once; the server refuses what is not 0..=50.
    const max = el("input", { type: "number", class: "max-chats", min: "0", max: "50", step: "1", inputmode: "numeric",
      value: String(typeof s.max_chats === "number" ? s.max_chats : 3), "aria-label": t("staff.max_chats", { name: staffName(s) }),
      onchange: (e) => {
        const raw = e.target.value.trim();
        const n = Number(raw);
        this.patch(s, { max_chats: raw === "" || !Number.isFinite(n) ? raw : n }, t("staff.max_chats_saved", { name: staffName(s), n: raw }));
      } });
    const reset = el("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => this.openPassword(s) }, "Reset password");
    return el("tr", { class: s.disabled ? "row-disabled" : null },
      el("td", null, el("span", { class: "cell-person" },
        el("span", { class: "avatar avatar-sm", "data-hue": String(hueFor(s.id) % 12), "aria-hidden": "true" }, initials(staffName(s))),
        el("span", null, el("span", { class: "person-name" }, s.full_name + (self ? " (you)" : "")),
          s.display_name ? el("span", { class: "person-sub" }, `Shown as “${s.display_name}”`) : null))),
      el("td", null, s.email, el("span", { class: "person-sub" }, s.created_at ? `Since ${formatFull(s.created_at)}` : "")),
      el("td", null, role),
      el("td", null, max),
      el("td", null, status),
      el("td", { class: "cell-actions" }, toggle, reset));
  }

  async patch(s, body, okText) {
    try {
      const updated = await api(`/api/v1/staff/${encodeURIComponent(s.id)}`, { method: "PATCH", body });
      Object.assign(s, updated || body);
      this.toast(okText);
    } catch (e) {
      this.toast(e.message, "error");
    }
    this.render();
  }

  openCreate() {
    const f = this.$("staff-form");
    f.reset();
    this.$("staff-form-error").textContent = "";
    this.$("staff-dialog").showModal();
    this.$("sf-full-name").focus();
  }

  async create() {
    const $ = this.$;
    const err = $("staff-form-error");
    err.textContent = "";
    const body = {
      full_name: $("sf-full-name").value.trim(),
      email: $("sf-email").value.trim(),
      role_id: Number($("sf-role").value),
      password: $("sf-password").value,
    };
    const display = $("sf-display-name").value.trim();
    if (display) body.display_name = display;
    if (!body.full_name) { err.textContent = "Enter the person's full name."; $("sf-full-name").focus(); return; }
    if (!body.email || !$("sf-email").checkValidity()) { err.textContent = "Enter a valid email address."; $("sf-email").focus(); return; }
    if (body.password.length < 8) { err.textContent = "The password needs at least 8 characters."; $("sf-password").focus(); return; }
    $("staff-save").disabled = true;
    try {
      const created = await api("/api/v1/staff", { method: "POST", body });
      if (created && created.id) this.staff.push(created);
      $("staff-dialog").close();
      this.toast(`Account created for ${body.full_name}.`);
      this.render();
    } catch (e) {
      err.textContent = e.message;
    } finally {
      $("staff-save").disabled = false;
    }
  }

  openPassword(s) {
    this.editing = s;
    this.$("password-for").textContent = `For ${staffName(s)} (${s.email}).`;
    this.$("pw-new").value = "";
    this.$("password-error").textContent = "";
    this.$("password-dialog").showModal();
    this.$("pw-new").focus();
  }

  async savePassword() {
    const pw = this.$("pw-new").value;
    if (pw.length < 8) { this.$("password-error").textContent = "The password needs at least 8 characters."; return; }
    try {
      await api(`/api/v1/staff/${encodeURIComponent(this.editing.id)}`, { method: "PATCH", body: { password: pw } });
      this.$("password-dialog").close();
      this.toast(`Password changed for ${staffName(this.editing)}.`);
    } catch (e) {
      this.$("password-error").textContent = e.message;
    }
  }
}
