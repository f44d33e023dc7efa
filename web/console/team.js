// Admin page: staff accounts (create, edit name, email and title, change role, disable after a
// confirmation, enable, reset password) over the REST staff endpoints (admin only).

import { el, setChildren, staffName, hueFor, formatFull } from "/shared/format.js";
import { api } from "/console/api.js";
import { RoutingSettings } from "/console/settings.js";
import { CannedAdmin } from "/console/canned_admin.js";
import { ConversationSettings } from "/console/conv_settings.js";
import { EmailSettings } from "/console/email_settings.js";
import { WebhooksSettings } from "/console/webhooks_settings.js";
import { t } from "/shared/i18n.js";
import "/console/team_texts.js";
import { photoOrInitials } from "/console/inbox/ui.js";

export class Team {
  constructor({ me, toast }) {
    this.me = me;
    this.toast = toast;
    this.staff = [];
    this.editing = null;
    this.routing = new RoutingSettings({ toast });
    this.canned = new CannedAdmin({ toast });
    this.convSettings = new ConversationSettings({ toast });
    this.email = new EmailSettings({ toast, me, after: document.getElementById("routing-form") });
    this.webhooks = new WebhooksSettings({ toast, after: this.email.form });
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    $("team-new").addEventListener("click", () => this.openCreate());
    $("staff-cancel").addEventListener("click", () => $("staff-dialog").close());
    $("password-cancel").addEventListener("click", () => $("password-dialog").close());
    $("staff-form").addEventListener("submit", (e) => { e.preventDefault(); this.saveStaff(); });
    $("disable-cancel").addEventListener("click", () => $("disable-dialog").close());
    $("disable-form").addEventListener("submit", (e) => { e.preventDefault(); this.confirmDisable(); });
    $("password-form").addEventListener("submit", (e) => { e.preventDefault(); this.savePassword(); });
  }

  async show() {
    this.$("team-error").textContent = "";
    this.routing.show();
    this.canned.show();
    this.convSettings.show();
    this.email.show();
    this.webhooks.show();
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
      onclick: () => s.disabled
        ? this.patch(s, { disabled: false }, t("staff.enabled", { name: staffName(s) }))
        : this.askDisable(s) },
    s.disabled ? t("staff.enable") : t("staff.disable"));
    const edit = el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": t("staff.edit_who", { name: staffName(s) }),
      onclick: () => this.openEdit(s) }, t("staff.edit"));
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
        el("span", { class: "avatar avatar-sm", "data-hue": String(hueFor(s.id) % 12), "aria-hidden": "true" }, photoOrInitials(staffName(s), s.avatar_url)),
        el("span", null, el("span", { class: "person-name" }, s.full_name + (self ? " (you)" : "")),
          s.title ? el("span", { class: "person-sub person-title" }, s.title) : null,
          s.display_name ? el("span", { class: "person-sub" }, `Shown as “${s.display_name}”`) : null))),
      el("td", null, s.email, el("span", { class: "person-sub" }, s.created_at ? `Since ${formatFull(s.created_at)}` : "")),
      el("td", null, role),
      el("td", null, max),
      el("td", null, status),
      el("td", { class: "cell-actions" }, edit, toggle, reset));
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

  openCreate() { this.openStaffDialog(null); }

  openEdit(s) { this.openStaffDialog(s); }

  /** One dialog for a new account (with role and password) and for editing one (`s`). */
  openStaffDialog(s) {
    const $ = this.$;
    $("staff-form").reset();
    this.editing = s;
    $("staff-form-error").textContent = "";
    $("staff-dialog-title").textContent = s ? t("staff.edit_title", { name: staffName(s) }) : t("staff.add_title");
    $("staff-save").textContent = s ? t("staff.save") : t("staff.create");
    $("sf-new-only").hidden = !!s;
    if (s) {
      $("sf-full-name").value = s.full_name || "";
      $("sf-display-name").value = s.display_name || "";
      $("sf-title").value = s.title || "";
      $("sf-email").value = s.email || "";
    }
    $("staff-dialog").showModal();
    $("sf-full-name").focus();
  }

  async saveStaff() {
    const $ = this.$;
    const err = $("staff-form-error");
    err.textContent = "";
    const editing = this.editing;
    const body = {
      full_name: $("sf-full-name").value.trim(),
      email: $("sf-email").value.trim(),
    };
    const display = $("sf-display-name").value.trim();
    const title = $("sf-title").value.trim();
    // Every missing or bad field is named at once.
    const missing = [];
    if (!body.full_name) missing.push(t("staff.need_name"));
    if (!body.email || !$("sf-email").checkValidity()) missing.push(t("staff.need_email"));
    if (!editing && $("sf-password").value.length < 8) missing.push(t("staff.need_password"));
    if (missing.length) {
      err.textContent = missing.join(" ");
      (!body.full_name ? $("sf-full-name") : !body.email || !$("sf-email").checkValidity() ? $("sf-email") : $("sf-password")).focus();
      return;
    }
    $("staff-save").disabled = true;
    try {
      if (editing) {
        // Only what changed; an emptied display name or title is cleared.
        const patch = {};
        if (body.full_name !== editing.full_name) patch.full_name = body.full_name;
        if (body.email !== editing.email) patch.email = body.email;
        if (display !== (editing.display_name || "")) patch.display_name = display || null;
        if (title !== (editing.title || "")) patch.title = title || null;
        if (Object.keys(patch).length) {
          const updated = await api(`/api/v1/staff/${encodeURIComponent(editing.id)}`, { method: "PATCH", body: patch });
          if (updated && updated.id) { for (const k of ["display_name", "title"]) delete editing[k]; Object.assign(editing, updated); }
        }
        $("staff-dialog").close();
        this.toast(t("staff.saved", { name: staffName(editing) }));
      } else {
        body.role_id = Number($("sf-role").value);
        body.password = $("sf-password").value;
        if (display) body.display_name = display;
        if (title) body.title = title;
        const created = await api("/api/v1/staff", { method: "POST", body });
        if (created && created.id) this.staff.push(created);
        $("staff-dialog").close();
        this.toast(t("staff.created", { name: body.full_name }));
      }
      this.render();
    } catch (e) {
      err.textContent = e.message;
    } finally {
      $("staff-save").disabled = false;
    }
  }

  /** Disabling signs the person out at once: asked first, naming what happens. */
  askDisable(s) {
    this.disabling = s;
    this.$("disable-title").textContent = t("staff.disable_title", { name: staffName(s) });
    this.$("disable-text").textContent = t("staff.disable_text", { name: staffName(s) });
    this.$("disable-dialog").showModal();
    this.$("disable-cancel").focus();
  }

  async confirmDisable() {
    const s = this.disabling;
    this.$("disable-dialog").close();
    if (s) await this.patch(s, { disabled: true }, t("staff.disabled", { name: staffName(s) }));
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
