// The visitor's context in the details column (issue 14): the current page (live from
// `visitor_page_viewed`), the last pages (title + link), the referrer, the browser in a few
// words ("Chrome 131 on Windows", parsed from the user agent), the language and the visitor's
// local time (from the IANA time zone, ticking each minute). Links are http(s) only, open in a
// new tab with `rel="noopener noreferrer"`; every value is text.

import { el, formatTime } from "/shared/format.js";
import { safeHref } from "/shared/format.js";
import { ct } from "/console/texts.js";

/** "Chrome 131 on Windows", "Safari 17 on iPhone", "" when unknown. */
export function browserName(ua) {
  if (typeof ua !== "string" || !ua) return "";
  const ver = (re) => { const m = ua.match(re); return m ? m[1] : ""; };
  let name = "";
  let v = "";
  if (/Edg(e|A|iOS)?\//.test(ua)) { name = "Edge"; v = ver(/Edg(?:e|A|iOS)?\/(\d+)/); }
  else if (/OPR\/|Opera/.test(ua)) { name = "Opera"; v = ver(/OPR\/(\d+)/); }
  else if (/SamsungBrowser\//.test(ua)) { name = "Samsung Internet"; v = ver(/SamsungBrowser\/(\d+)/); }
  else if (/Firefox\/|FxiOS\//.test(ua)) { name = "Firefox"; v = ver(/(?:Firefox|FxiOS)\/(\d+)/); }
  else if (/Chrome\/|CriOS\/|Chromium\//.test(ua)) { name = /Chromium\//.test(ua) ? "Chromium" : "Chrome"; v = ver(/(?:Chrome|CriOS|Chromium)\/(\d+)/); }
  else if (/Safari\//.test(ua)) { name = "Safari"; v = ver(/Version\/(\d+)/); }
  let os = "";
  if (/iPhone/.test(ua)) os = "iPhone";
  else if (/iPad/.test(ua)) os = "iPad";
  else if (/Android/.test(ua)) os = "Android";
  else if (/Windows/.test(ua)) os = "Windows";
  else if (/Mac OS X|Macintosh/.test(ua)) os = "macOS";
  else if (/CrOS/.test(ua)) os = "ChromeOS";
  else if (/Linux/.test(ua)) os = "Linux";
  const browser = [name, v].filter(Boolean).join(" ");
  if (browser && os) return ct("visitor.on", { browser, os });
  return browser || os;
}

/** The time now in `zone` ("14:05 (Europe/Berlin)"); "" for an unknown zone. */
export function localTime(zone, now = new Date()) {
  if (typeof zone !== "string" || !zone) return "";
  try {
    const time = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", weekday: "short", timeZone: zone }).format(now);
    return `${time} (${zone})`;
  } catch {
    return "";
  }
}

/** A language tag in words where the browser knows it: "German (de-DE)". */
export function languageName(tag) {
  if (typeof tag !== "string" || !tag) return "";
  try {
    const name = new Intl.DisplayNames(undefined, { type: "language" }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

function pageLink(p) {
  const href = safeHref(p.url || "");
  const title = p.title || p.url || ct("visitor.untitled");
  return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", title: p.url }, title) : el("span", null, title);
}

/** The facts rows ([term, node]) and the recent-pages list for a visitor's context, or null. */
export function contextView(ctx) {
  if (!ctx || !ctx.pages || !ctx.pages.length) return null;
  const pages = ctx.pages;
  const current = pages[pages.length - 1];
  const c = ctx.context || {};
  const facts = [[ct("visitor.page"), el("span", { class: "current-page", id: "visitor-current-page" }, pageLink(current))]];
  const ref = [...pages].reverse().find((p) => p.referrer) || null;
  if (ref) facts.push([ct("visitor.referrer"), pageLink({ url: ref.referrer, title: ref.referrer })]);
  const browser = browserName(c.user_agent);
  if (browser) facts.push([ct("visitor.browser"), browser]);
  if (c.language) facts.push([ct("visitor.language"), languageName(c.language)]);
  const time = localTime(c.time_zone);
  if (time) facts.push([ct("visitor.local_time"), el("span", { class: "local-time", "data-zone": c.time_zone }, time)]);
  const recent = pages.slice(0, -1).reverse().map((p) => el("li", null, pageLink(p), p.at ? el("span", { class: "muted page-at" }, ` · ${formatTime(p.at)}`) : null));
  return { facts, recent };
}

/** Ticks every local time shown (called each minute). */
export function tickLocalTimes(root = document) {
  for (const node of root.querySelectorAll(".local-time[data-zone]")) node.textContent = localTime(node.dataset.zone);
}
