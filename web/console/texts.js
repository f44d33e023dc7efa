// The console's words for issue 14 (attachments, receipts, notes, watching, tags, canned replies,
// ratings, visitor context, inactivity, conversation settings), one table per language like
// /shared/i18n.js: a translation adds a table under its language tag; `ct(key, vars)` picks the
// page's language, falls back to English, then to the shared table, and fills `{name}`
// placeholders with plain text (callers put the result in text nodes, never in markup).

import { t } from "/shared/i18n.js";

const en = {
  "attach.button": "Attach a file",
  "attach.uploading": "Uploading {name}…",
  "attach.failed": "{name} was not sent: {reason}",
  "attach.too_large": "The file is too large.",
  "attach.open": "Open {name} in full size",
  "attach.download": "Download {name}",
  "attach.download_short": "Download",
  "attach.loading": "Loading image…",
  "attach.unavailable": "The file could not be loaded.",
  "attach.close": "Close",
  "attach.drop": "Drop the file to send it",
  "read.seen": "Seen",
  "unread.label": "{n} unread",
  "note.toggle": "Note",
  "note.toggle_title": "Write an internal note instead of a reply",
  "note.hint": "Internal note — the visitor won't see this",
  "note.placeholder": "Write an internal note… (only your team sees it)",
  "note.label": "Internal note",
  "note.by": "Note by {name}",
  "note.reply_label": "Reply",
  "watch.button": "Watch",
  "watch.stop": "Stop watching",
  "watch.banner": "You are watching this chat. The visitor does not see you; you can add internal notes.",
  "watch.ended": "You stopped watching this chat.",
  "tags.title": "Tags",
  "tags.add": "Add a tag",
  "tags.remove": "Remove tag {tag}",
  "tags.none": "No tags yet.",
  "tags.hint": "Enter adds a tag.",
  "tags.list": "Tags: {tags}",
  "canned.title": "Canned replies",
  "canned.intro": "Answers your team inserts by typing / and the shortcut in the reply box.",
  "canned.shortcut": "Shortcut",
  "canned.text": "Text",
  "canned.add": "Add reply",
  "canned.save": "Save",
  "canned.edit": "Edit",
  "canned.cancel": "Cancel",
  "canned.delete": "Delete",
  "canned.delete_confirm": "Delete the canned reply /{shortcut}?",
  "canned.none": "No canned replies yet.",
  "canned.saved": "Canned reply /{shortcut} saved.",
  "canned.deleted": "Canned reply /{shortcut} deleted.",
  "canned.picker": "Canned replies",
  "canned.edit_title": "Edit /{shortcut}",
  "rating.good": "👍 Good",
  "rating.bad": "👎 Bad",
  "rating.line": "{name} rated this chat: {rating}",
  "rating.toast": "{name} rated the chat: {rating}",
  "visitor.page": "Current page",
  "visitor.pages": "Recent pages",
  "visitor.referrer": "Came from",
  "visitor.browser": "Browser",
  "visitor.language": "Language",
  "visitor.local_time": "Local time",
  "visitor.on": "{browser} on {os}",
  "visitor.untitled": "(no title)",
  "inactive.warning": "No messages for a while: this chat closes in {time} unless someone writes.",
  "inactive.closed": "The chat was closed after a period of inactivity.",
  "sys.closed_inactive": "The chat was closed after inactivity",
  "composer.too_long": "This text is too long to send ({size} KB, at most {max} KB). Shorten it or send it as a file.",
  "pane.chats": "Chats",
  "pane.back": "Back to chats",
  "pane.details": "Details",
  "conv.settings_title": "Conversations",
  "conv.settings_intro": "Inactivity and the pre-chat form the widget shows.",
  "conv.warning": "Warn after",
  "conv.warning_help": "Idle seconds before both sides are warned (0 = off, up to 86400).",
  "conv.close": "Close after",
  "conv.close_help": "Idle seconds before the chat closes (0 = off, more than the warning).",
  "conv.prechat": "Pre-chat form",
  "conv.prechat_on": "Ask visitors before their first message",
  "conv.name": "Name",
  "conv.email": "Email",
  "conv.off": "Don't ask",
  "conv.optional": "Optional",
  "conv.required": "Required",
  "conv.save": "Save conversation settings",
  "conv.saved": "Conversation settings saved.",
  "conv.seconds": "seconds",
};

const TABLES = { en };

function pickTable() {
  const tags = [document.documentElement.lang, ...(navigator.languages || [])].filter(Boolean);
  for (const tag of tags) {
    const lang = String(tag).toLowerCase().split("-")[0];
    if (TABLES[lang]) return TABLES[lang];
  }
  return en;
}

const table = pickTable();

/** The console text for `key`, with `{name}` placeholders filled as plain text. */
export function ct(key, vars = {}) {
  const s = table[key] ?? en[key];
  if (s == null) return t(key, vars);
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars && vars[k] != null ? String(vars[k]) : m));
}

/** Fills `data-ct="key"` elements (and `data-ct-placeholder`, `data-ct-title`). */
export function applyConsoleTexts(root = document) {
  for (const node of root.querySelectorAll("[data-ct]")) node.textContent = ct(node.dataset.ct);
  for (const node of root.querySelectorAll("[data-ct-placeholder]")) node.placeholder = ct(node.dataset.ctPlaceholder);
  for (const node of root.querySelectorAll("[data-ct-title]")) node.title = ct(node.dataset.ctTitle);
  for (const node of root.querySelectorAll("[data-ct-label]")) node.setAttribute("aria-label", ct(node.dataset.ctLabel));
}
