// The visitor side's words (issue 14): one table per language under lang/, chosen by the widget's
// data-lang (the `lang` query parameter), else the browser's languages, else English; any text
// can be overridden by the server's `widget_texts` setting (from GET /api/v1/availability).
// `t(key, vars)` fills `{name}` placeholders as plain text: callers put the result in text nodes.
import en from "./lang/en.js";
import de from "./lang/de.js";
import fr from "./lang/fr.js";
import es from "./lang/es.js";

const TABLES = { en, de, fr, es };
let lang = "en";
let table = en;
let overrides = {};

/** Picks the language: the requested tag, then the browser's; sets <html lang>. */
export function chooseLang(requested) {
  const tags = [requested, ...(navigator.languages || []), navigator.language].filter(Boolean);
  lang = "en";
  for (const tag of tags) {
    const l = String(tag).toLowerCase().split(/[-_]/)[0];
    if (TABLES[l]) { lang = l; break; }
  }
  table = TABLES[lang];
  document.documentElement.lang = lang;
  return lang;
}

export function currentLang() { return lang; }

/** The server's overrides ({key: text}); anything not a short string is ignored. */
export function setOverrides(texts) {
  const o = {};
  if (texts && typeof texts === "object" && !Array.isArray(texts)) {
    for (const [k, v] of Object.entries(texts)) {
      if (/^[a-z0-9_]{1,64}$/.test(k) && typeof v === "string" && v.length <= 500) o[k] = v;
    }
  }
  overrides = o;
}

export function hasOverride(key) { return Object.prototype.hasOwnProperty.call(overrides, key); }

/** The text for `key` with `{name}` placeholders filled from `vars` (as plain text). */
export function t(key, vars = {}) {
  const s = (hasOverride(key) ? overrides[key] : null) ?? table[key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars && vars[k] != null ? String(vars[k]) : m));
}

/**
 * Fills the page's static texts: `data-t` → text, `data-t-label` → aria-label,
 * `data-t-title` → title, `data-t-placeholder` → placeholder.
 */
export function applyTexts(root = document) {
  for (const n of root.querySelectorAll("[data-t]")) n.textContent = t(n.dataset.t);
  for (const n of root.querySelectorAll("[data-t-label]")) n.setAttribute("aria-label", t(n.dataset.tLabel));
  for (const n of root.querySelectorAll("[data-t-title]")) n.title = t(n.dataset.tTitle);
  for (const n of root.querySelectorAll("[data-t-placeholder]")) n.placeholder = t(n.dataset.tPlaceholder);
}

/** An estimated wait in words: "less than a minute", "about 2 minutes"; "" when unknown. */
export function waitWords(seconds) {
  if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return t("wait_less_than_minute");
  const m = Math.round(seconds / 60);
  if (m < 60) return m === 1 ? t("wait_minute") : t("wait_minutes", { n: m });
  const h = Math.round(m / 60);
  return h === 1 ? t("wait_hour") : t("wait_hours", { n: h });
}

/** When a closed business opens again, in the reader's local time: "Opens tomorrow at 09:00." */
export function opensAtWords(ms, now = new Date()) {
  if (typeof ms !== "number" || !isFinite(ms)) return "";
  const at = new Date(ms);
  const time = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" }).format(at);
  const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((dayStart(at) - dayStart(now)) / 86400000);
  if (days <= 0) return t("offline_opens_today", { time });
  if (days === 1) return t("offline_opens_tomorrow", { time });
  const day = new Intl.DateTimeFormat(lang, days < 7 ? { weekday: "long" } : { weekday: "long", month: "short", day: "numeric" }).format(at);
  return t("offline_opens_on", { day, time });
}
