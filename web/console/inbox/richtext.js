// Message text as DOM nodes (issue 14): literal text with line breaks kept (the bubble is
// `white-space: pre-wrap`), http(s) URLs and `www.…` (opened as https) turned into links with
// `rel="noopener noreferrer"`. Built with createTextNode / createElement only: markup in a
// message stays text, and only http(s) URLs ever become an href.

const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const TRAIL_RE = /[.,;:!?)\]}'"»]+$/;

/** `text` as a fragment of text nodes and links. */
export function messageText(text) {
  const frag = document.createDocumentFragment();
  const s = String(text ?? "");
  let last = 0;
  for (const m of s.matchAll(URL_RE)) {
    let raw = m[0];
    // Closing punctuation after a URL belongs to the sentence (keep a ")" the URL opened).
    const trail = raw.match(TRAIL_RE);
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
    return u.href;
  } catch {
    return null;
  }
}
