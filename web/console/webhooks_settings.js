// Admin page, issue 16: webhooks (product.md §8.12) over `/api/v1/webhooks` — the list, adding
// one (URL and the events it hears), enabling/disabling, deleting (after a confirmation), its
// signing secret (shown on demand, copied, rotated), "Send test" (a `ping`) and its last
// deliveries with their outcome. Every text is in texts.js; all server data goes in as text.

import { el, setChildren, formatFull } from "/shared/format.js";
import { api } from "/console/api.js";
import { t } from "/shared/i18n.js";
import "/console/texts.js";

const EVENTS = ["chat.started", "chat.claimed", "message.created", "chat.ended", "chat.rated"];
/** How often and how many times the deliveries are read again after "Send test". */
const POLL_MS = 1000;
const POLLS = 12;

export class WebhooksSettings {
  /** `after`: the element the section goes after. */
  constructor({ toast, after }) {
    this.toast = toast;
    this.hooks = [];
    /** Hook ids whose secret / deliveries are shown. */
    this.secretShown = new Set();
    this.deliveriesShown = new Set();
    this.deliveries = new Map();
    this.build();
    after.after(this.section);
  }

  build() {
    this.url = el("input", { type: "url", id: "wh-url", maxlength: "2000", spellcheck: "false", autocomplete: "off",
      inputmode: "url", placeholder: "https://example.com/frontdesk-hook", "aria-describedby": "wh-url-help wh-url-error" });
    this.boxes = EVENTS.map((name) => el("input", { type: "checkbox", value: name, id: `wh-ev-${name.replace(".", "-")}`, checked: true }));
    this.addError = el("p", { class: "form-error", id: "wh-url-error", role: "alert" });
    this.eventsError = el("p", { class: "form-error", id: "wh-events-error", role: "alert" });
    this.addBtn = el("button", { type: "submit", class: "btn btn-primary", id: "wh-add" }, t("hooks.add"));
    this.list = el("ul", { class: "em-status-list wh-list", id: "wh-list", "aria-labelledby": "wh-list-title" });
    this.listError = el("p", { class: "form-error", id: "wh-error", role: "alert" });
    this.live = el("p", { class: "sr-only", role: "status", "aria-live": "polite", id: "wh-live" });

    this.form = el("form", { id: "wh-add-form", novalidate: true, "aria-labelledby": "wh-add-title" },
      el("h3", { class: "card-sub", id: "wh-add-title" }, t("hooks.add_title")),
      el("div", { class: "settings-grid" },
        el("label", { for: "wh-url" }, t("hooks.url")),
        el("div", null, this.url,
          el("p", { class: "help muted", id: "wh-url-help" }, t("hooks.url_help")),
          this.addError),
        el("span", { id: "wh-events-label" }, t("hooks.events")),
        el("fieldset", { class: "wh-events", "aria-labelledby": "wh-events-label", "aria-describedby": "wh-events-error" },
          ...EVENTS.map((name, i) => el("label", { class: "wh-event" }, this.boxes[i], " ",
            el("span", null, t(`hooks.event.${name}`)), " ", el("code", null, name))),
          this.eventsError)),
      el("div", { class: "settings-actions" }, this.addBtn));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.add(); });

    this.section = el("section", { class: "settings", id: "webhooks-settings", "aria-labelledby": "wh-heading" },
      el("div", { class: "team-head" }, el("div", null,
        el("h2", { id: "wh-heading" }, t("hooks.title")),
        el("p", { class: "muted" }, t("hooks.intro")))),
      el("div", { class: "settings-card" },
        el("h3", { class: "card-sub", id: "wh-list-title" }, t("hooks.list_title")),
        this.listError,
        this.list,
        this.live,
        this.form));
  }

  async show() {
    this.listError.textContent = "";
    try {
      const data = await api("/api/v1/webhooks");
      this.hooks = (data && data.results) || [];
    } catch (e) {
      this.listError.textContent = e.status === 404 ? t("hooks.unavailable") : e.message;
      return;
    }
    for (const id of this.deliveriesShown) await this.loadDeliveries(id, false);
    this.render();
    this.section.dataset.loaded = "true";
  }

  render() {
    if (!this.hooks.length) {
      setChildren(this.list, [el("li", { class: "muted", id: "wh-none" }, t("hooks.none"))]);
      return;
    }
    setChildren(this.list, this.hooks.map((h) => this.item(h)));
  }

  item(h) {
    const btn = (label, onclick, attrs = {}) =>
      el("button", { type: "button", class: "btn btn-secondary", onclick, ...attrs }, label);
    const secretId = `wh-secret-${h.id}`;
    const delId = `wh-deliveries-${h.id}`;
    const shown = this.secretShown.has(h.id);
    const listing = this.deliveriesShown.has(h.id);
    const li = el("li", { class: "wh-item", "data-hook": h.id },
      el("div", { class: "wh-head" },
        el("strong", { class: "wh-url" }, h.url),
        " ",
        el("span", { class: h.enabled ? "wh-badge em-ok" : "wh-badge muted" }, t(h.enabled ? "hooks.enabled" : "hooks.disabled"))),
      el("p", { class: "muted wh-events-list" }, t("hooks.hears", { events: (h.events || []).join(", ") })),
      el("div", { class: "em-test-row wh-actions" },
        btn(t(h.enabled ? "hooks.disable" : "hooks.enable"), () => this.setEnabled(h, !h.enabled), { "data-action": "toggle" }),
        btn(t("hooks.test"), () => this.test(h), { "data-action": "test", disabled: !h.enabled }),
        btn(t(listing ? "hooks.hide_deliveries" : "hooks.show_deliveries"), () => this.toggleDeliveries(h),
          { "data-action": "deliveries", "aria-expanded": String(listing), "aria-controls": delId }),
        btn(t(shown ? "hooks.hide_secret" : "hooks.show_secret"), () => this.toggleSecret(h),
          { "data-action": "secret", "aria-expanded": String(shown), "aria-controls": secretId }),
        btn(t("hooks.delete"), () => this.remove(h), { "data-action": "delete", class: "btn btn-danger" })));
    if (shown) {
      const box = el("input", { type: "text", readonly: true, value: h.secret, id: `${secretId}-value`, class: "wh-secret-value",
        spellcheck: "false", "aria-label": t("hooks.secret") });
      const status = el("span", { class: "muted", role: "status", "aria-live": "polite" });
      li.append(el("div", { class: "wh-secret", id: secretId },
        el("p", { class: "help muted" }, t("hooks.secret_help")),
        el("div", { class: "em-test-row" }, box,
          btn(t("hooks.copy"), () => this.copy(box, status), { "data-action": "copy" }),
          btn(t("hooks.rotate"), () => this.rotate(h), { "data-action": "rotate" }),
          status)));
    }
    if (listing) li.append(this.deliveryList(h, delId));
    return li;
  }

  deliveryList(h, id) {
    const list = this.deliveries.get(h.id);
    const ul = el("ul", { class: "em-status-list wh-deliveries", id, "aria-label": t("hooks.deliveries_of", { url: h.url }) });
    if (!list) return el("div", { id }, el("p", { class: "muted" }, t("hooks.loading")));
    if (!list.length) { ul.append(el("li", { class: "muted" }, t("hooks.no_deliveries"))); return ul; }
    for (const d of list) {
      const outcome = d.status != null ? t("hooks.http_status", { status: d.status }) : (d.error || "");
      const cls = d.state === "delivered" ? "em-ok" : d.state === "failed" ? "em-bad" : "";
      ul.append(el("li", { class: cls, "data-delivery": d.id, "data-state": d.state },
        el("strong", null, d.event), " ",
        el("span", { class: "wh-state" }, t(`hooks.state.${d.state}`)), " · ",
        el("span", null, outcome), " · ",
        el("span", null, t("hooks.attempts", { n: d.attempts })), " · ",
        el("time", { datetime: new Date(d.created_at).toISOString() }, formatFull(d.created_at)),
        d.error && d.status != null ? el("span", { class: "muted" }, ` — ${d.error}`) : null));
    }
    return ul;
  }

  chosenEvents() {
    return this.boxes.filter((b) => b.checked).map((b) => b.value);
  }

  async add() {
    this.addError.textContent = "";
    this.eventsError.textContent = "";
    this.url.removeAttribute("aria-invalid");
    const events = this.chosenEvents();
    if (!events.length) { this.eventsError.textContent = t("hooks.pick_event"); this.boxes[0].focus(); return; }
    this.addBtn.disabled = true;
    try {
      const h = await api("/api/v1/webhooks", { method: "POST", body: { url: this.url.value.trim(), events } });
      this.url.value = "";
      this.secretShown.add(h.id);
      this.toast(t("hooks.added"));
      await this.show();
      this.live.textContent = t("hooks.added");
    } catch (e) {
      const msg = String(e.message);
      if (/\bevents\b/.test(msg)) { this.eventsError.textContent = msg; } else {
        this.addError.textContent = msg;
        this.url.setAttribute("aria-invalid", "true");
        this.url.focus();
      }
    } finally {
      this.addBtn.disabled = false;
    }
  }

  async patch(h, body, done) {
    this.listError.textContent = "";
    try {
      await api(`/api/v1/webhooks/${encodeURIComponent(h.id)}`, { method: "PATCH", body });
      if (done) { this.toast(done); this.live.textContent = done; }
      await this.show();
    } catch (e) {
      this.listError.textContent = e.message;
    }
  }

  setEnabled(h, enabled) {
    return this.patch(h, { enabled }, t(enabled ? "hooks.now_enabled" : "hooks.now_disabled"));
  }

  rotate(h) {
    if (!window.confirm(t("hooks.rotate_confirm"))) return;
    return this.patch(h, { rotate_secret: true }, t("hooks.rotated"));
  }

  async remove(h) {
    if (!window.confirm(t("hooks.delete_confirm", { url: h.url }))) return;
    this.listError.textContent = "";
    try {
      await api(`/api/v1/webhooks/${encodeURIComponent(h.id)}`, { method: "DELETE" });
      this.toast(t("hooks.deleted"));
      this.live.textContent = t("hooks.deleted");
      await this.show();
    } catch (e) {
      this.listError.textContent = e.message;
    }
  }

  toggleSecret(h) {
    if (this.secretShown.has(h.id)) this.secretShown.delete(h.id); else this.secretShown.add(h.id);
    this.render();
    this.list.querySelector(`[data-hook="${h.id}"] [data-action="secret"]`)?.focus();
  }

  async toggleDeliveries(h) {
    if (this.deliveriesShown.has(h.id)) {
      this.deliveriesShown.delete(h.id);
    } else {
      this.deliveriesShown.add(h.id);
      await this.loadDeliveries(h.id, false);
    }
    this.render();
    this.list.querySelector(`[data-hook="${h.id}"] [data-action="deliveries"]`)?.focus();
  }

  async loadDeliveries(id, render = true) {
    try {
      const data = await api(`/api/v1/webhooks/${encodeURIComponent(id)}/deliveries`);
      this.deliveries.set(id, (data && data.results) || []);
    } catch (e) {
      this.listError.textContent = e.message;
    }
    if (render) this.render();
  }

  async test(h) {
    this.listError.textContent = "";
    let sent;
    try {
      sent = await api(`/api/v1/webhooks/${encodeURIComponent(h.id)}/test`, { method: "POST" });
    } catch (e) {
      this.listError.textContent = e.message;
      return;
    }
    this.toast(t("hooks.test_sent"));
    this.live.textContent = t("hooks.test_sent");
    this.deliveriesShown.add(h.id);
    // Read the deliveries until the test's attempt has an outcome (bounded).
    for (let i = 0; i < POLLS; i++) {
      await this.loadDeliveries(h.id);
      const d = (this.deliveries.get(h.id) || []).find((x) => x.id === sent.id);
      if (d && (d.state !== "pending" || d.attempts > 0)) {
        this.live.textContent = t("hooks.test_outcome", { state: t(`hooks.state.${d.state}`) });
        return;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async copy(box, status) {
    status.textContent = "";
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(box.value);
      status.textContent = t("hooks.copied");
    } catch {
      box.focus();
      box.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch { /* selected; the user copies */ }
      status.textContent = t(ok ? "hooks.copied" : "hooks.copy_selected");
    }
  }
}
