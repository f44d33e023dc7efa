// The Reports page (issue 16; supervisors and admins): the team's figures over a date range from
// `GET /api/v1/reports` — chats, answered and missed, first response and time to close (median
// and 90th percentile), ratings, chats per agent as bars and the volume by hour of the week as a
// heat map, both drawn here as SVG (no chart library), each with its numbers in a table for
// screen readers; and the same as CSV.

import { el, setChildren } from "/shared/format.js";
import { api, getToken } from "/console/api.js";
import { t, addTexts } from "/shared/i18n.js";

addTexts("en", {
  "nav.reports": "Reports",
  "reports.title": "Reports",
  "reports.intro": "How the team did: chats started between these days.",
  "reports.from": "From",
  "reports.to": "To",
  "reports.show": "Show",
  "reports.csv": "Download CSV",
  "reports.loading": "Loading…",
  "reports.chats": "Chats",
  "reports.answered": "Answered in time",
  "reports.missed": "Missed",
  "reports.first_response": "First response",
  "reports.time_to_close": "Time to close",
  "reports.ratings": "Ratings",
  "reports.median_p90": "median {median} · 90% within {p90}",
  "reports.none": "—",
  "reports.good_bad": "{good} good · {bad} bad",
  "reports.agents": "Chats per agent",
  "reports.agent": "Agent",
  "reports.agent_chats": "Chats",
  "reports.agent_first": "First response (median)",
  "reports.no_agents": "No agent served a chat in this range.",
  "reports.volume": "Chats by hour of the week ({tz})",
  "reports.volume_cell": "{day} {hour}:00: {n}",
  "reports.day.0": "Mon", "reports.day.1": "Tue", "reports.day.2": "Wed", "reports.day.3": "Thu",
  "reports.day.4": "Fri", "reports.day.5": "Sat", "reports.day.6": "Sun",
});

const SVG = "http://www.w3.org/2000/svg";
const DAY_MS = 86400000;

function svg(tag, attrs = {}, ...kids) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  for (const k of kids) if (k) n.append(k);
  return n;
}

/** A duration in words: 45 s, 3 min, 2.5 h. */
export function duration(ms) {
  if (typeof ms !== "number") return t("reports.none");
  if (ms < 60000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3600000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

const day = (d) => d.toISOString().slice(0, 10);

export class ReportsView {
  constructor({ root }) {
    this.root = root;
    const today = new Date();
    this.from = el("input", { type: "date", id: "rp-from", value: day(new Date(today.getTime() - 29 * DAY_MS)) });
    this.to = el("input", { type: "date", id: "rp-to", value: day(today) });
    this.error = el("p", { class: "form-error", id: "rp-error", role: "alert" });
    this.body = el("div", { class: "rp-body", id: "rp-body", "aria-live": "polite" });
    const form = el("form", { class: "rp-form", id: "rp-form" },
      el("label", { for: "rp-from" }, t("reports.from")), this.from,
      el("label", { for: "rp-to" }, t("reports.to")), this.to,
      el("button", { type: "submit", class: "btn btn-primary btn-sm" }, t("reports.show")),
      el("button", { type: "button", class: "btn btn-secondary btn-sm", id: "rp-csv", onclick: () => this.download() }, t("reports.csv")));
    form.addEventListener("submit", (e) => { e.preventDefault(); this.load(); });
    setChildren(root, el("div", { class: "team-inner" },
      el("div", { class: "team-head" }, el("div", null, el("h1", null, t("reports.title")), el("p", { class: "muted" }, t("reports.intro")))),
      form, this.error, this.body));
  }

  show() { this.load(); }

  query() {
    const since = new Date(`${this.from.value}T00:00:00`).getTime();
    const until = new Date(`${this.to.value}T00:00:00`).getTime() + DAY_MS;
    const p = new URLSearchParams({ since: String(since), until: String(until) });
    try { p.set("tz", Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"); } catch { /* the server's default */ }
    return p;
  }

  async load() {
    this.error.textContent = "";
    setChildren(this.body, el("p", { class: "muted" }, t("reports.loading")));
    let r;
    try {
      r = await api(`/api/v1/reports?${this.query()}`);
    } catch (e) {
      setChildren(this.body);
      this.error.textContent = e.message;
      return;
    }
    this.render(r);
  }

  render(r) {
    const spreadText = (s) => (s && typeof s.median === "number" ? t("reports.median_p90", { median: duration(s.median), p90: duration(s.p90) }) : t("reports.none"));
    const card = (id, label, value, sub) => el("div", { class: "rp-card", id }, el("span", { class: "rp-label" }, label), el("strong", { class: "rp-value" }, value), sub ? el("span", { class: "muted rp-sub" }, sub) : null);
    const ratings = r.ratings || {};
    setChildren(this.body,
      el("div", { class: "rp-cards" },
        card("rp-chats", t("reports.chats"), String(r.chats ?? 0)),
        card("rp-answered", t("reports.answered"), String(r.answered ?? 0)),
        card("rp-missed", t("reports.missed"), String(r.missed ?? 0)),
        card("rp-first", t("reports.first_response"), duration(r.first_response_ms && r.first_response_ms.median), spreadText(r.first_response_ms)),
        card("rp-close", t("reports.time_to_close"), duration(r.time_to_close_ms && r.time_to_close_ms.median), spreadText(r.time_to_close_ms)),
        card("rp-ratings", t("reports.ratings"), String((ratings.good ?? 0) + (ratings.bad ?? 0)), t("reports.good_bad", { good: ratings.good ?? 0, bad: ratings.bad ?? 0 }))),
      this.agents(r),
      this.volume(r));
  }

  agents(r) {
    const list = [...(r.agents || [])].sort((a, b) => b.chats - a.chats);
    const name = (a) => (r.staff_names && r.staff_names[a.staff_id]) || a.staff_id;
    const box = el("section", { class: "settings-card rp-section", "aria-labelledby": "rp-agents-title" },
      el("h2", { class: "card-sub", id: "rp-agents-title" }, t("reports.agents")));
    if (!list.length) { box.append(el("p", { class: "muted" }, t("reports.no_agents"))); return box; }
    const max = Math.max(...list.map((a) => a.chats), 1);
    const rowH = 26, labelW = 160, barW = 360;
    const chart = svg("svg", { class: "rp-bars", id: "rp-bars", viewBox: `0 0 ${labelW + barW + 50} ${list.length * rowH}`, role: "img", "aria-hidden": "true" });
    list.forEach((a, i) => {
      const w = Math.max(2, Math.round((a.chats / max) * barW));
      const label = svg("text", { x: labelW - 8, y: i * rowH + 17, "text-anchor": "end", class: "rp-bar-label" });
      label.textContent = name(a);
      const value = svg("text", { x: labelW + w + 6, y: i * rowH + 17, class: "rp-bar-value" });
      value.textContent = String(a.chats);
      chart.append(label, svg("rect", { x: labelW, y: i * rowH + 5, width: w, height: rowH - 10, rx: 4, class: "rp-bar" }), value);
    });
    box.append(chart, el("table", { class: "table rp-table", id: "rp-agents" },
      el("thead", null, el("tr", null, el("th", { scope: "col" }, t("reports.agent")), el("th", { scope: "col" }, t("reports.agent_chats")), el("th", { scope: "col" }, t("reports.agent_first")))),
      el("tbody", null, list.map((a) => el("tr", null, el("td", null, name(a)), el("td", null, String(a.chats)), el("td", null, duration(a.first_response_ms && a.first_response_ms.median)))))));
    return box;
  }

  volume(r) {
    const v = Array.isArray(r.volume) ? r.volume : [];
    const max = Math.max(1, ...v.flat());
    const cell = 18, left = 40, top = 18;
    const chart = svg("svg", { class: "rp-heat", id: "rp-heat", viewBox: `0 0 ${left + 24 * cell} ${top + 7 * cell}`, role: "img",
      "aria-label": t("reports.volume", { tz: r.time_zone || "UTC" }) });
    for (let h = 0; h < 24; h += 3) {
      const lbl = svg("text", { x: left + h * cell + 2, y: 12, class: "rp-heat-label" });
      lbl.textContent = String(h).padStart(2, "0");
      chart.append(lbl);
    }
    for (let d = 0; d < 7; d++) {
      const lbl = svg("text", { x: 0, y: top + d * cell + 13, class: "rp-heat-label" });
      lbl.textContent = t(`reports.day.${d}`);
      chart.append(lbl);
      for (let h = 0; h < 24; h++) {
        const n = (v[d] && v[d][h]) || 0;
        const rect = svg("rect", { x: left + h * cell, y: top + d * cell, width: cell - 2, height: cell - 2, rx: 3, class: "rp-heat-cell",
          "fill-opacity": n ? (0.2 + 0.8 * (n / max)).toFixed(2) : "0.06", "data-n": n });
        const tip = svg("title");
        tip.textContent = t("reports.volume_cell", { day: t(`reports.day.${d}`), hour: String(h).padStart(2, "0"), n });
        rect.append(tip);
        chart.append(rect);
      }
    }
    return el("section", { class: "settings-card rp-section", "aria-labelledby": "rp-volume-title" },
      el("h2", { class: "card-sub", id: "rp-volume-title" }, t("reports.volume", { tz: r.time_zone || "UTC" })), chart);
  }

  /** The CSV needs the token, so it is fetched and handed to the browser as a file. */
  async download() {
    this.error.textContent = "";
    try {
      const res = await fetch(`/api/v1/reports?${this.query()}&format=csv`, { headers: { Authorization: getToken() || "" } });
      if (!res.ok) throw new Error((await res.json().catch(() => null))?.error?.message || `The request failed (${res.status}).`);
      const url = URL.createObjectURL(await res.blob());
      const a = el("a", { href: url, download: `frontdesk-report-${this.from.value}-${this.to.value}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      this.error.textContent = e.message;
    }
  }
}
