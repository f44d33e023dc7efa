// Admin page, issue 15: email over SMTP — the server's URL, the sender, the staff notification
// list (`smtp_url`, `email_from`, `notify_emails` over `GET/PATCH /api/v1/settings`), a test
// email (`POST /api/v1/email/test`) and the last outcome of each kind of email
// (`GET /api/v1/email/status`). The server checks every value; a refusal names its key and is
// shown under that field. The password in the URL never comes back from the server: it shows
// `********`, and saving the URL as shown keeps the stored password.

import { el, setChildren, formatFull } from "/shared/format.js";
import { api } from "/console/api.js";
import { t, addTexts } from "/shared/i18n.js";

addTexts("en", {
  "email.title": "Email",
  "email.intro": "Emails to your team when a visitor leaves a message while nobody is there, and to visitors about replies they missed and the transcripts they ask for.",
  "email.smtp_url": "SMTP server",
  "email.smtp_url_help": "smtp://user:password@smtp.example.com:587 (STARTTLS) or smtps://…:465 (TLS from the start). Empty: no email. The password is never shown again; leave ******** to keep it.",
  "email.from": "From",
  "email.from_help": "The sender of every email, such as Shop Support <support@shop.example>.",
  "email.notify": "Notify",
  "email.notify_help": "Staff addresses that hear of messages left while nobody was available, one per line (at most 20).",
  "email.reply_after": "Email missed replies after",
  "email.reply_after_help": "A reply the visitor has not seen this many seconds after they left is emailed to them, with a link back to the chat (0 = never, up to 86400).",
  "email.seconds": "seconds",
  "email.save": "Save email settings",
  "email.saved": "Email settings saved.",
  "email.off": "Email is off: set the SMTP server and the sender to turn it on.",
  "email.on": "Email is on.",
  "email.test_title": "Send a test email",
  "email.test_to": "To",
  "email.test_help": "Sends one email now with the saved settings and says what the SMTP server answered.",
  "email.test_send": "Send test email",
  "email.test_sending": "Sending…",
  "email.test_ok": "Sent to {to}. Check that inbox (and its spam folder).",
  "email.test_failed": "Not sent: {error}",
  "email.status_title": "Recent emails",
  "email.status_none": "No email has been sent since the server started.",
  "email.status_ok": "Sent {at}",
  "email.status_failed": "Not sent {at} (try {n} of {max}): {error}",
  "email.kind.offline_message": "Message left while nobody was available",
  "email.kind.visitor_replies": "Replies a visitor missed",
  "email.kind.transcript": "Transcript for a visitor",
  "email.kind.test": "Test email",
  "email.unavailable": "Email is not available in this server.",
});

const FIELDS = ["smtp_url", "email_from", "notify_emails", "email_reply_after_secs"];
/** How many tries an email gets in all (`email::MAX_ATTEMPTS` on the server). */
const MAX_ATTEMPTS = 5;

export class EmailSettings {
  /** `after`: the element the section goes after; `me`: the signed-in staff member. */
  constructor({ toast, after, me }) {
    this.toast = toast;
    this.me = me;
    this.dirty = false;
    this.build();
    after.after(this.form);
  }

  build() {
    const field = (name, label, input, help) => {
      input.id = `em-${name}`;
      input.setAttribute("aria-describedby", `em-${name}-help em-${name}-error`);
      return [
        el("label", { for: input.id }, label),
        el("div", null, input,
          el("p", { class: "help muted", id: `em-${name}-help` }, help),
          el("p", { class: "form-error", id: `em-${name}-error`, role: "alert" })),
      ];
    };
    this.inputs = {
      smtp_url: el("input", { type: "text", maxlength: "500", spellcheck: "false", autocomplete: "off", inputmode: "url",
        placeholder: "smtp://user:password@smtp.example.com:587" }),
      email_from: el("input", { type: "text", maxlength: "320", spellcheck: "false", autocomplete: "off",
        placeholder: "Shop Support <support@shop.example>" }),
      notify_emails: el("textarea", { rows: "3", spellcheck: "false", autocomplete: "off", placeholder: "owner@shop.example" }),
      email_reply_after_secs: el("input", { type: "number", min: "0", max: "86400", step: "1", inputmode: "numeric" }),
    };
    this.state = el("p", { class: "muted", id: "em-state", role: "status" });
    this.error = el("p", { class: "form-error", id: "em-error", role: "alert" });
    this.status = el("span", { class: "muted", id: "em-saved", role: "status" });
    this.saveBtn = el("button", { type: "submit", class: "btn btn-primary", id: "em-save" }, t("email.save"));

    this.testTo = el("input", { type: "email", id: "em-test-to", maxlength: "320", autocomplete: "email",
      "aria-describedby": "em-test-help em-test-result" });
    this.testBtn = el("button", { type: "button", class: "btn btn-secondary", id: "em-test-send", onclick: () => this.sendTest() },
      t("email.test_send"));
    this.testResult = el("p", { class: "help", id: "em-test-result", role: "status", "aria-live": "polite" });
    this.statusList = el("ul", { class: "em-status-list", id: "em-status", "aria-labelledby": "em-status-title" });

    this.form = el("form", { class: "settings", id: "email-settings-form", novalidate: true, "aria-labelledby": "em-heading" },
      el("div", { class: "team-head" }, el("div", null,
        el("h2", { id: "em-heading" }, t("email.title")),
        el("p", { class: "muted" }, t("email.intro")))),
      el("div", { class: "settings-card" },
        this.state,
        el("div", { class: "settings-grid" },
          field("smtp_url", t("email.smtp_url"), this.inputs.smtp_url, t("email.smtp_url_help")),
          field("email_from", t("email.from"), this.inputs.email_from, t("email.from_help")),
          field("notify_emails", t("email.notify"), this.inputs.notify_emails, t("email.notify_help")),
          field("email_reply_after_secs", t("email.reply_after"), this.inputs.email_reply_after_secs, t("email.reply_after_help"))),
        this.error,
        el("div", { class: "settings-actions" }, this.status, this.saveBtn),
        el("div", { class: "em-test" },
          el("h3", { class: "card-sub" }, t("email.test_title")),
          el("div", { class: "settings-grid" },
            el("label", { for: "em-test-to" }, t("email.test_to")),
            el("div", null,
              el("div", { class: "em-test-row" }, this.testTo, this.testBtn),
              el("p", { class: "help muted", id: "em-test-help" }, t("email.test_help")),
              this.testResult))),
        el("div", { class: "em-test" },
          el("h3", { class: "card-sub", id: "em-status-title" }, t("email.status_title")),
          this.statusList)));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    this.form.addEventListener("input", (e) => { if (e.target !== this.testTo) this.dirty = true; });
  }

  async show() {
    this.error.textContent = "";
    if (!this.testTo.value && this.me && this.me.email) this.testTo.value = this.me.email;
    try {
      const s = await api("/api/v1/settings");
      if (!this.dirty) this.apply(s || {});
    } catch (e) {
      this.error.textContent = e.message;
    }
    this.loadStatus();
  }

  apply(s) {
    this.dirty = false;
    this.inputs.smtp_url.value = typeof s.smtp_url === "string" ? s.smtp_url : "";
    this.inputs.email_from.value = typeof s.email_from === "string" ? s.email_from : "";
    this.inputs.notify_emails.value = Array.isArray(s.notify_emails) ? s.notify_emails.join("\n") : "";
    this.inputs.email_reply_after_secs.value = s.email_reply_after_secs ?? 300;
    this.state.textContent = t(s.smtp_url && s.email_from ? "email.on" : "email.off");
    this.clearErrors();
    this.form.dataset.loaded = "true";
  }

  values() {
    const text = (v) => (v.trim() === "" ? null : v.trim());
    return {
      smtp_url: text(this.inputs.smtp_url.value),
      email_from: text(this.inputs.email_from.value),
      notify_emails: this.inputs.notify_emails.value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean),
      // As typed when it is not a whole number: the server names the key it refuses.
      email_reply_after_secs: /^\d+$/.test(this.inputs.email_reply_after_secs.value.trim())
        ? Number(this.inputs.email_reply_after_secs.value.trim()) : this.inputs.email_reply_after_secs.value,
    };
  }

  clearErrors() {
    for (const f of FIELDS) {
      this.form.querySelector(`#em-${f}-error`).textContent = "";
      this.inputs[f].removeAttribute("aria-invalid");
    }
  }

  /** The server's refusal (`smtp_url: …`) under the field it names; anything else above Save. */
  showRefusal(message) {
    const text = String(message);
    const m = new RegExp(`\\b(${FIELDS.join("|")}): `).exec(text);
    if (!m) { this.error.textContent = text; return; }
    this.form.querySelector(`#em-${m[1]}-error`).textContent = text.slice(m.index + m[0].length).trim();
    this.inputs[m[1]].setAttribute("aria-invalid", "true");
    this.inputs[m[1]].focus();
  }

  async save() {
    this.error.textContent = "";
    this.status.textContent = "";
    this.clearErrors();
    this.saveBtn.disabled = true;
    try {
      const saved = await api("/api/v1/settings", { method: "PATCH", body: this.values() });
      if (saved) this.apply(saved);
      this.status.textContent = t("email.saved");
      this.toast(t("email.saved"));
    } catch (e) {
      this.showRefusal(e.message);
    } finally {
      this.saveBtn.disabled = false;
    }
  }

  async sendTest() {
    const to = this.testTo.value.trim();
    this.testResult.className = "help";
    this.testResult.textContent = t("email.test_sending");
    this.testBtn.disabled = true;
    try {
      const r = await api("/api/v1/email/test", { method: "POST", body: { to } });
      const ok = r && r.ok;
      this.testResult.className = ok ? "help em-ok" : "help form-error";
      this.testResult.textContent = ok ? t("email.test_ok", { to }) : t("email.test_failed", { error: (r && r.error) || "" });
    } catch (e) {
      this.testResult.className = "help form-error";
      this.testResult.textContent = e.message;
    } finally {
      this.testBtn.disabled = false;
      this.loadStatus();
    }
  }

  async loadStatus() {
    let status;
    try {
      status = await api("/api/v1/email/status");
    } catch (e) {
      setChildren(this.statusList, [el("li", { class: "muted" }, e.status === 404 ? t("email.unavailable") : e.message)]);
      return;
    }
    const kinds = Object.keys(status || {});
    if (!kinds.length) { setChildren(this.statusList, [el("li", { class: "muted" }, t("email.status_none"))]); return; }
    setChildren(this.statusList, kinds.map((kind) => {
      const s = status[kind] || {};
      const at = s.at ? formatFull(s.at) : "";
      const label = t(`email.kind.${kind}`) === `email.kind.${kind}` ? kind : t(`email.kind.${kind}`);
      const outcome = s.ok
        ? t("email.status_ok", { at })
        : t("email.status_failed", { at, n: s.attempts ?? 0, max: kind === "test" ? 1 : MAX_ATTEMPTS, error: s.error || "" });
      return el("li", { class: s.ok ? "em-ok" : "em-bad", "data-kind": kind },
        el("strong", null, label), " ", el("span", null, outcome));
    }));
  }
}
