// Small view pieces shared by the inbox's views: avatars, availability tags, thread notes, day
// labels, priority names and the screen-reader announcer. Built with `el()`, so user data stays literal text.

import { el, initials, hueFor, formatTime, toMs } from "/shared/format.js";
import { AVAILABILITY_TEXT } from "/console/inbox/presence.js";

export const PRIORITY = { 0: "", 1: "Low", 2: "Medium", 3: "High" };

export const $ = (id) => document.getElementById(id);

/** An avatar: the photo (`photo`, a staff object's `avatar_url`) or initials; `online` adds the
 *  presence dot (amber when `away`). */
export function avatar(name, id, online, small, away = false, photo = null) {
  return el("span", { class: `avatar${small ? " avatar-sm" : ""}`, "data-hue": String(hueFor(id) % 12), "aria-hidden": "true" },
    photoOrInitials(name, photo), online ? el("i", { class: `presence${away ? " presence-away" : ""}` }) : null);
}

/** The inside of an avatar: the photo if there is one (a same-origin address), else initials. */
export function photoOrInitials(name, photo) {
  return typeof photo === "string" && photo.startsWith("/api/v1/staff/")
    ? el("img", { class: "avatar-photo", src: photo, alt: "" })
    : initials(name);
}

/** A colleague's availability as a dot and a word (the word is what screen readers hear). */
export function availabilityTag(status) {
  return el("span", { class: `avail avail-${status}` }, el("i", { class: "dot", "aria-hidden": "true" }), AVAILABILITY_TEXT[status] || status);
}

/** A colleague's state in lists: "Lost connection, back soon" while their grace runs, else availability. */
export function staffStateTag(presence, id) {
  if (presence.isStaffAway(id)) {
    return el("span", { class: "avail avail-gone" }, el("i", { class: "dot", "aria-hidden": "true" }), "Lost connection, back soon");
  }
  const status = presence.statusOf(id);
  return status ? availabilityTag(status) : null;
}

/** Screen readers hear new messages of the open chat (the thread itself is re-rendered). */
export function announce(text) {
  const live = document.getElementById("sr-live");
  if (live) live.textContent = String(text).slice(0, 300);
}

export function noteRow(text, at) {
  return el("li", { class: "note" }, el("span", null, text, at ? ` · ${formatTime(at)}` : ""));
}

export function dayLabel(t) {
  const d = new Date(toMs(t));
  const today = new Date();
  const y = new Date(); y.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === y.toDateString()) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "long", month: "short", day: "numeric" });
}
