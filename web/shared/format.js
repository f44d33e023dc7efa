// Formatting and safe-rendering helpers shared by the console and the visitor chat.
// Everything that shows user data goes through textContent: never innerHTML.

/** Protocol timestamps are ms since the epoch; tolerate seconds (the seed's examples). */
export function toMs(t) {
  if (typeof t !== "number" || !isFinite(t)) return Date.now();
  return t < 1e12 ? t * 1000 : t;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "14:05" today, "Mar 3, 14:05" on another day. */
export function formatTime(t) {
  const d = new Date(toMs(t));
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return timeFmt.format(d);
  return `${dayFmt.format(d)}, ${timeFmt.format(d)}`;
}

export function formatFull(t) {
  return fullFmt.format(new Date(toMs(t)));
}

/** "waiting 3 min" / "just arrived", for the queue. */
export function formatWaiting(t, now = Date.now()) {
  const a = formatAgo(t, now);
  return a === "now" ? "just arrived" : `waiting ${a}`;
}

/** "now", "3 min", "2 h", "4 d" — for list items. */
export function formatAgo(t, now = Date.now()) {
  const s = Math.max(0, Math.round((now - toMs(t)) / 1000));
  if (s < 45) return "now";
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "about 2 minutes" for an estimated wait in seconds. */
export function formatWait(seconds) {
  if (typeof seconds !== "number" || !isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 60) return "less than a minute";
  const m = Math.round(seconds / 60);
  if (m < 60) return `about ${m} minute${m === 1 ? "" : "s"}`;
  const h = Math.round(m / 60);
  return `about ${h} hour${h === 1 ? "" : "s"}`;
}

/** The text of a message content object: our UIs send `{content: text, timestamp}`. */
export function contentText(content) {
  if (content == null) return "";
  if (typeof content === "string") return content;
  if (typeof content.content === "string") return content.content;
  if (typeof content.text === "string") return content.text;
  try { return JSON.stringify(content); } catch { return ""; }
}

/** A staff member's public name. */
export function staffName(staff) {
  if (!staff) return "An agent";
  return staff.display_name || staff.full_name || staff.email || "An agent";
}

export function visitorName(v) {
  if (!v) return "Visitor";
  return v.name || v.email || "Visitor";
}

export const ROLE_NAMES = { 1: "Admin", 2: "Supervisor", 3: "Agent" };
export function roleName(roleId) { return ROLE_NAMES[roleId] || "Staff"; }

/** Two-letter initials for an avatar. */
export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  const a = parts[0][0] || "";
  const b = parts.length > 1 ? parts[parts.length - 1][0] : (parts[0][1] || "");
  return (a + b).toUpperCase();
}

/** A stable hue for an avatar, from an id. */
export function hueFor(id) {
  let h = 0;
  for (const ch of String(id || "")) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % 360;
}

/**
 * Creates an element: el("div", {class: "x", "aria-label": "y"}, "text", child...).
 * Strings become text nodes, so user data passed as children is always literal text.
 * `on*` function props become listeners; `text` sets textContent.
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === "text") node.textContent = String(v);
      else if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, String(v));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of `node`. */
export function setChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/**
 * Message text as nodes: literal text, with line breaks kept (CSS pre-wrap) and http(s) links
 * made clickable — built with DOM calls, so markup in the text stays text.
 */
export function richText(text) {
  const frag = document.createDocumentFragment();
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
    const a = document.createElement("a");
    a.href = m[0];
    a.textContent = m[0];
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    frag.appendChild(a);
    last = m.index + m[0].length;
  }
  if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
  return frag;
}

/** Error sentence from a fetch Response with the product's error body. */
export async function errorMessage(res, fallback = "Something went wrong.") {
  try {
    const body = await res.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch { /* not JSON */ }
  return fallback;
}

/** Short chime made with WebAudio (no sound files; CSP-friendly). */
let audioCtx = null;
export function unlockAudio() {
  try {
    if (!audioCtx) audioCtx = new (window.AudioContext || window.webkitAudioContext)();
    if (audioCtx.state === "suspended") audioCtx.resume();
  } catch { /* no audio */ }
}
export function chime(kind = "message") {
  try {
    if (!audioCtx || audioCtx.state !== "running") return;
    const notes = kind === "chat" ? [660, 880, 1100] : [880, 1320];
    const t0 = audioCtx.currentTime;
    notes.forEach((f, i) => {
      const o = audioCtx.createOscillator();
      const g = audioCtx.createGain();
      o.type = "sine";
      o.frequency.value = f;
      const t = t0 + i * 0.12;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      o.connect(g).connect(audioCtx.destination);
      o.start(t);
      o.stop(t + 0.3);
    });
  } catch { /* ignore */ }
}

/**
 * Message text as nodes (issue 14), for both UIs: literal text with line breaks kept (CSS
 * pre-wrap); http(s) URLs and `www.` hosts (opened as https) become links that open in a new
 * tab with rel="noopener noreferrer"; closing punctuation after a URL stays with the sentence.
 * Built with DOM calls only: markup in the text stays text, and only http(s) URLs become an href.
 */
export function linkify(text) {
  const frag = document.createDocumentFragment();
  const s = String(text ?? "");
  let last = 0;
  for (const m of s.matchAll(/\b(?:https?:\/\/|www\.)[^\s<>"']+/gi)) {
    let raw = m[0];
    // Closing punctuation after a URL belongs to the sentence (keep a ")" the URL opened).
    const trail = raw.match(/[.,;:!?)\]}'"»]+$/);
    if (trail) {
      let cut = trail[0];
      if (cut.startsWith(")") && raw.slice(0, -cut.length).includes("(")) cut = cut.slice(1);
      raw = raw.slice(0, raw.length - cut.length);
    }
    const href = safeHref(raw);
    if (!href) continue;
    if (m.index > last) frag.appendChild(document.createTextNode(s.slice(last, m.index)));
    const a = document.createElement("a");
    a.href = href;
    a.textContent = raw;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    frag.appendChild(a);
    last = m.index + raw.length;
  }
  if (last < s.length) frag.appendChild(document.createTextNode(s.slice(last)));
  return frag;
}

/** An http(s) URL for `raw` (`www.` gets https), or null. */
export function safeHref(raw) {
  const candidate = /^www\./i.test(raw) ? `https://${raw}` : raw;
  try {
    const u = new URL(candidate);
    if ((u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname) return null;
    // As written (checked above), not normalised: "https://www.example.org" keeps its look.
    return candidate;
  } catch {
    return null;
  }
}

/** A file size for people: "820 B", "14 KB", "2.4 MB" (in the given locale). */
export function formatBytes(n, locale) {
  if (typeof n !== "number" || !isFinite(n) || n < 0) return "";
  const num = (v, d) => new Intl.NumberFormat(locale, { maximumFractionDigits: d }).format(v);
  if (n < 1024) return `${num(n, 0)} B`;
  if (n < 1024 * 1024) return `${num(n / 1024, n < 10240 ? 1 : 0)} KB`;
  return `${num(n / (1024 * 1024), 1)} MB`;
}
