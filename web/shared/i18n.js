// The words of the routing UI (issue 13), in one table per language, for both UIs: a
// translation adds a table under its language tag; `t(key, vars)` picks the page's language
// (`<html lang>`, then the browser's), falls back to English, and fills `{name}` placeholders
// with plain text (the callers put the result in text nodes, never in markup).

const en = {
  // visitor chat: nobody available
  "offline.title": "No one is available right now.",
  "offline.opens_today": "Opens today at {time}.",
  "offline.opens_tomorrow": "Opens tomorrow at {time}.",
  "offline.opens_on": "Opens {day} at {time}.",
  "offline.leave": "Leave your message and your email address: we'll reply by email.",
  "offline.written": "Your message is saved. Leave your email address and we'll reply by email.",
  "offline.written_saved": "Your message is saved. We'll reply by email as soon as we can.",
  "offline.form_title": "Where can we reply?",
  "offline.name": "Name",
  "offline.optional": "(optional)",
  "offline.email": "Email",
  "offline.hint": "We'll reply by email.",
  "offline.save": "Save",
  "offline.saving": "Saving…",
  "offline.change": "Change",
  "offline.saved": "Thanks! We'll reply to {email}.",
  "offline.email_needed": "Please enter your email address.",
  "offline.email_invalid": "Please check the email address.",
  "offline.subtitle": "We'll reply by email",
  // visitor chat: waiting and transfers
  "wait.next": "You're next in line.",
  "wait.next_eta": "You're next in line · {wait}.",
  "wait.number": "You're number {position} in line.",
  "wait.number_eta": "You're number {position} in line · {wait}.",
  "wait.less_than_minute": "less than a minute",
  "wait.minutes": "about {n} minutes",
  "wait.minute": "about 1 minute",
  "wait.hours": "about {n} hours",
  "wait.hour": "about 1 hour",
  "wait.requeued": "{name} had to go. We're finding someone else.",
  "chat.transferred": "You're now chatting with {to}",
  "chat.joined": "{name} joined the chat",
  "chat.left": "{name} left the chat",

  // console: availability, team, routing events
  "avail.switch": "Available for chats",
  "avail.on": "Available",
  "avail.off": "Away",
  "avail.now": "Your status is now {status}.",
  "team.load": "{active}/{max}",
  "team.load_label": "{active} of {max} chats",
  "team.grace": "Lost connection, back soon",
  "assigned.toast": "Assigned to you: {name}",
  "assigned.note": "Assigned to you",
  "assigned.notify": "A chat with {name} was assigned to you",
  "unassigned.toast": "The chat with {name} went back to the queue: no reply within the time allowed.",
  "unassigned.toast_other": "The chat with {name} is no longer assigned to you.",
  "transfer.button": "Transfer",
  "transfer.title": "Transfer this chat",
  "transfer.intro": "Hand the chat with {name} to a colleague. They get the whole conversation and your note.",
  "transfer.to": "Colleague",
  "transfer.nobody": "No colleague is online right now.",
  "transfer.note": "Note for your colleague",
  "transfer.submit": "Transfer",
  "transfer.cancel": "Cancel",
  "transfer.pick": "Choose a colleague.",
  "transfer.done": "The chat with {name} is now with {to}.",
  "transfer.to_you": "{from} transferred a chat with {name} to you",
  "transfer.to_you_note": "{from} transferred this chat to you.",
  "transfer.note_quote": "Note: “{note}”",
  "transfer.away": "{to} now serves the chat with {name} ({from} transferred it).",
  "transfer.gone": "{from} transferred your chat with {name} to {to}.",
  "sys.assigned": "Assigned to {name}",
  "sys.assigned_by": "Assigned to {name} ({routing}, attempt {attempt})",
  "sys.assign_timeout": "{name} did not reply within {secs} s: the chat went back to the queue",
  "sys.assign_declined": "{name} passed the chat on: it went back to the queue",
  "declined.toast": "You passed the chat with {name} on: it goes to the next agent.",
  "sys.assign_gave_up": "Automatic assignment stopped after {attempts} attempts: the chat waits in the queue",
  "sys.transfer": "{from} transferred the chat to {to}",
  "sys.transfer_note": "{from} transferred the chat to {to}: “{note}”",
  "sys.someone": "A colleague",
  "routing.round_robin": "round robin",
  "routing.least_busy": "least busy",
  "routing.manual": "manual",
  "contact.left_email": "Reply by email: {email}",

  // admin: routing settings and capacity
  "settings.title": "Routing and business hours",
  "settings.intro": "How waiting chats reach your team, and when the chat widget says you are open.",
  "settings.routing": "Routing",
  "settings.manual": "Manual: staff claim chats from the queue",
  "settings.round_robin": "Round robin: each available agent in turn",
  "settings.least_busy": "Least busy: the available agent with the fewest chats",
  "settings.routing_help": "Automatic routing gives a chat only to an available agent below their max chats. Claiming by hand always works.",
  "settings.timeout": "Reply within",
  "settings.seconds": "seconds",
  "settings.timeout_help": "An assigned agent who does not reply in time loses the chat to the next one (5 to 3600).",
  "settings.attempts": "Offer at most",
  "settings.times": "times",
  "settings.attempts_help": "Then the chat stays in the queue for anyone to claim (1 to 20).",
  "settings.hours": "Business hours",
  "settings.zone": "Time zone",
  "settings.day": "Day",
  "settings.save": "Save routing settings",
  "staff.max_chats_col": "Max chats",
  "nav.team": "Team & routing",
  "settings.hours_col": "Hours",
  "settings.saved": "Routing settings saved.",
  "settings.always_open": "Always open",
  "settings.closed": "Closed",
  "settings.add_hours": "Add hours",
  "settings.remove_hours": "Remove",
  "settings.opens": "Opens",
  "settings.closes": "Closes",
  "staff.max_chats": "Max chats of {name}",
  "staff.max_chats_saved": "{name} can now take {n} chats at once.",
  "day.mon": "Monday", "day.tue": "Tuesday", "day.wed": "Wednesday", "day.thu": "Thursday",
  "day.fri": "Friday", "day.sat": "Saturday", "day.sun": "Sunday",
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

/** The text for `key` with `{name}` placeholders filled from `vars` (as plain text). */
export function t(key, vars = {}) {
  const s = table[key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars && vars[k] != null ? String(vars[k]) : m));
}

/** An estimated wait in words: "less than a minute", "about 2 minutes"; "" when unknown. */
export function waitWords(seconds) {
  if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return t("wait.less_than_minute");
  const m = Math.round(seconds / 60);
  if (m < 60) return m === 1 ? t("wait.minute") : t("wait.minutes", { n: m });
  const h = Math.round(m / 60);
  return h === 1 ? t("wait.hour") : t("wait.hours", { n: h });
}

/** When a closed business opens again, in the reader's local time: "Opens tomorrow at 09:00." */
export function opensAtWords(ms, now = new Date()) {
  if (typeof ms !== "number" || !isFinite(ms)) return "";
  const at = new Date(ms);
  const time = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(at);
  const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((dayStart(at) - dayStart(now)) / 86400000);
  if (days <= 0) return t("offline.opens_today", { time });
  if (days === 1) return t("offline.opens_tomorrow", { time });
  const day = new Intl.DateTimeFormat(undefined, days < 7 ? { weekday: "long" } : { weekday: "long", month: "short", day: "numeric" }).format(at);
  return t("offline.opens_on", { day, time });
}

/** More texts for a language (a page's own words: the console's, for one). */
export function addTexts(lang, entries) {
  Object.assign((TABLES[lang] ??= {}), entries);
}

/**
 * Fills the static texts of a page from the table: every element with `data-t="key"` (and,
 * with another `attr` such as "ct", `data-ct`, `data-ct-placeholder`, `-title`, `-label`).
 */
export function applyTexts(root = document, attr = "t") {
  const cap = attr[0].toUpperCase() + attr.slice(1);
  for (const node of root.querySelectorAll(`[data-${attr}]`)) node.textContent = t(node.dataset[attr]);
  for (const node of root.querySelectorAll(`[data-${attr}-placeholder]`)) node.placeholder = t(node.dataset[`${attr}Placeholder`]);
  for (const node of root.querySelectorAll(`[data-${attr}-title]`)) node.title = t(node.dataset[`${attr}Title`]);
  for (const node of root.querySelectorAll(`[data-${attr}-label]`)) node.setAttribute("aria-label", t(node.dataset[`${attr}Label`]));
}
