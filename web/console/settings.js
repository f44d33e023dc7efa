// Admin page, issue 13: the routing settings (routing mode, assign timeout, max attempts) and the
// business hours (an IANA time zone and a weekly table of opening hours, several per day) over
// `GET/PATCH /api/v1/settings`. The server decides what is valid: its 400 sentence (which names
// the key) is shown next to the form, and nothing is changed on screen until it accepts.

import { el, setChildren } from "/shared/format.js";
import { api } from "/console/api.js";
import { t } from "/shared/i18n.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TIME_RE = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

export class RoutingSettings {
  constructor({ toast }) {
    this.toast = toast;
    this.settings = null;
    this.hours = new Map(DAYS.map((d) => [d, []])); // day -> [{open, close}]
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    $("routing-form").addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    $("rs-always").addEventListener("change", () => this.renderHours());
    // What the admin changed since the form was filled is not overwritten by a late load.
    this.dirty = false;
    $("routing-form").addEventListener("input", () => { this.dirty = true; });
    $("routing-form").addEventListener("change", () => { this.dirty = true; });
    this.fillZones();
  }

  fillZones() {
    let zones = [];
    try { zones = Intl.supportedValuesOf("timeZone"); } catch { /* older browser: type it */ }
    setChildren(this.$("rs-zones"), zones.map((z) => el("option", { value: z })));
  }

  async show() {
    this.$("routing-error").textContent = "";
    try {
      const s = await api("/api/v1/settings");
      if (!this.dirty) this.apply(s);
    } catch (e) {
      this.$("routing-error").textContent = e.message;
    }
  }

  /** Puts the server's settings in the form. */
  apply(s) {
    this.settings = s || {};
    this.dirty = false;
    const $ = this.$;
    $("routing-form").dataset.loaded = "true";
    $("rs-routing").value = ["manual", "round_robin", "least_busy"].includes(s.routing) ? s.routing : "manual";
    $("rs-timeout").value = s.assign_timeout_secs ?? 30;
    $("rs-attempts").value = s.assign_max_attempts ?? 3;
    const bh = s.business_hours;
    $("rs-always").checked = !bh;
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch { /* none */ }
    $("rs-zone").value = (bh && bh.time_zone) || zone;
    this.hours = new Map(DAYS.map((d) => [d, []]));
    if (bh && Array.isArray(bh.weekly)) {
      for (const w of bh.weekly) if (this.hours.has(w.day)) this.hours.get(w.day).push({ open: w.open, close: w.close });
    } else {
      // A sensible start when hours are switched on: weekdays 9 to 5.
      for (const d of DAYS.slice(0, 5)) this.hours.get(d).push({ open: "09:00", close: "17:00" });
    }
    this.renderHours();
  }

  /** Reads the time inputs back into `hours` (so a re-render keeps what was typed). */
  readHours() {
    for (const d of DAYS) {
      const rows = this.$("rs-days").querySelectorAll(`[data-day="${d}"] .interval`);
      if (!rows.length && this.hours.get(d).length) continue;
      this.hours.set(d, [...rows].map((row) => ({
        open: row.querySelector("input[data-edge=open]").value.trim(),
        close: row.querySelector("input[data-edge=close]").value.trim(),
      })));
    }
  }

  renderHours() {
    const always = this.$("rs-always").checked;
    this.$("rs-hours-box").hidden = always;
    setChildren(this.$("rs-days"), DAYS.map((d) => {
      const dayName = t(`day.${d}`);
      const list = this.hours.get(d);
      const intervals = list.map((h, i) => el("span", { class: "interval" },
        el("input", { class: "time", value: h.open, "data-edge": "open", inputmode: "numeric", maxlength: "5", placeholder: "09:00",
          pattern: TIME_RE.source, "aria-label": `${t("settings.opens")} (${dayName} ${i + 1})` }),
        el("span", { "aria-hidden": "true" }, "–"),
        el("input", { class: "time", value: h.close, "data-edge": "close", inputmode: "numeric", maxlength: "5", placeholder: "17:00",
          pattern: TIME_RE.source, "aria-label": `${t("settings.closes")} (${dayName} ${i + 1})` }),
        el("button", { type: "button", class: "link-btn", "aria-label": `${t("settings.remove_hours")}: ${dayName} ${h.open}–${h.close}`,
          onclick: () => { this.readHours(); this.hours.get(d).splice(i, 1); this.renderHours(); } }, t("settings.remove_hours"))));
      return el("tr", { "data-day": d },
        el("th", { scope: "row" }, dayName),
        el("td", null, el("div", { class: "intervals" },
          intervals.length ? intervals : el("span", { class: "muted closed" }, t("settings.closed")),
          el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": `${t("settings.add_hours")}: ${dayName}`,
            onclick: () => { this.readHours(); this.hours.get(d).push({ open: "09:00", close: "17:00" }); this.renderHours(); } }, t("settings.add_hours")))));
    }));
  }

  body() {
    const $ = this.$;
    const num = (v) => (v.trim() === "" ? v : Number(v));
    const body = {
      routing: $("rs-routing").value,
      assign_timeout_secs: num($("rs-timeout").value),
      assign_max_attempts: num($("rs-attempts").value),
    };
    if ($("rs-always").checked) body.business_hours = null;
    else {
      this.readHours();
      const weekly = [];
      for (const d of DAYS) for (const h of this.hours.get(d)) weekly.push({ day: d, open: h.open, close: h.close });
      body.business_hours = { time_zone: $("rs-zone").value.trim(), weekly };
    }
    return body;
  }

  async save() {
    const $ = this.$;
    const err = $("routing-error");
    err.textContent = "";
    $("routing-status").textContent = "";
    const btn = $("routing-save");
    btn.disabled = true;
    try {
      // The server checks every value and names the key it refuses (shown here as it says it).
      const saved = await api("/api/v1/settings", { method: "PATCH", body: this.body() });
      if (saved) this.apply(saved);
      $("routing-status").textContent = t("settings.saved");
      this.toast(t("settings.saved"));
    } catch (e) {
      err.textContent = e.message;
    } finally {
      btn.disabled = false;
    }
  }
}
