// Who is online: colleagues (with their availability and load) and visitors, as told by
// `staff_init` and the presence events; and a cache of every staff object seen, so that names
// of colleagues who went offline still resolve in old threads. No DOM, no socket.

export const Availability = Object.freeze({ AVAILABLE: "available", AWAY: "away" });

/** What each availability is called on screen. */
export const AVAILABILITY_TEXT = { available: "Available", away: "Away" };

/** A status from the server, or "available" when it sent none (staff_goes_online, older servers). */
export function availabilityOf(value) {
  return value === Availability.AWAY ? Availability.AWAY : Availability.AVAILABLE;
}

export class Presence {
  constructor(me) {
    this.me = me;
    this.staff = new Map();     // staff id -> staff object (with status, active_chats, max_chats)
    this.visitors = new Map();  // visitor id -> visitor/room object
    this.known = new Map();     // staff id -> staff object, everyone ever seen
    this.myStatus = Availability.AVAILABLE;
    // Parties whose connection dropped and whose grace runs (visitor_away / staff_away): they
    // are still in the chat and expected back, not gone.
    this.awayVisitors = new Set();
    this.awayStaff = new Set();
  }

  /** `staff_init`: the whole truth about who is online. */
  reset(onlineStaff, onlineVisitors) {
    this.staff.clear();
    this.awayStaff.clear();
    for (const st of onlineStaff || []) {
      if (!st || !st.id) continue;
      this.staffOnline({ ...st, status: availabilityOf(st.status) });
      // `connected: false`: within the reconnect grace (issue 13), shown as "lost connection".
      if (st.connected === false && st.id !== this.me.id) this.awayStaff.add(st.id);
    }
    const mine = this.staff.get(this.me.id);
    this.myStatus = availabilityOf(mine && mine.status);
    this.staff.set(this.me.id, { ...this.me, ...(mine || {}), status: this.myStatus });
    this.visitors.clear();
    for (const v of onlineVisitors || []) this.visitors.set(v.visitor_id || v.id, v);
    // staff_init does not say which visitors are away: what we were told before may be stale.
    this.awayVisitors.clear();
  }

  /** A colleague came online (`staff_goes_online`): available until told otherwise. */
  staffOnline(st) {
    this.awayStaff.delete(st.id);
    const prev = this.staff.get(st.id);
    const entry = { ...(prev || {}), ...st, status: availabilityOf(st.status) };
    this.staff.set(st.id, entry);
    this.remember(entry);
  }

  staffOffline(id) { this.staff.delete(id); this.awayStaff.delete(id); }

  /** `staff_away` / `staff_back`: a colleague's connection dropped / came back within the grace. */
  setStaffAway(id, away) { if (away) this.awayStaff.add(id); else this.awayStaff.delete(id); }
  isStaffAway(id) { return this.awayStaff.has(id); }

  /** `staff_availability_changed {staff, status, active_chats, max_chats}`. */
  setAvailability(staff, status, load = {}) {
    if (!staff || !staff.id) return;
    const s = availabilityOf(status);
    const prev = this.staff.get(staff.id) || {};
    const entry = { ...prev, ...staff, status: s };
    if (typeof load.active_chats === "number") entry.active_chats = load.active_chats;
    if (typeof load.max_chats === "number") entry.max_chats = load.max_chats;
    this.staff.set(staff.id, entry);
    if (staff.id === this.me.id) this.myStatus = s;
  }

  /** A colleague's load as the server last told it, moved by claims seen since. */
  addChats(id, n) {
    const st = this.staff.get(id);
    if (st && typeof st.active_chats === "number") st.active_chats = Math.max(0, st.active_chats + n);
  }

  statusOf(id) {
    const st = this.staff.get(id);
    return st ? availabilityOf(st.status) : null;
  }

  visitorOnline(v) { const id = v.visitor_id || v.id; this.visitors.set(id, v); this.awayVisitors.delete(id); }
  visitorOffline(id) { this.visitors.delete(id); this.awayVisitors.delete(id); }
  /** `visitor_away` / `visitor_back`: the visitor's connection dropped / came back within the grace. */
  setVisitorAway(id, away) { if (away) this.awayVisitors.add(id); else this.awayVisitors.delete(id); }
  isVisitorAway(id) { return this.awayVisitors.has(id); }
  isVisitorOnline(id) { return this.visitors.has(id); }

  remember(st) { if (st && st.id) this.known.set(st.id, st); }

  /** Online colleagues, admins first, then by name. */
  sortedStaff(nameOf) {
    return [...this.staff.values()].sort((a, b) => a.role_id - b.role_id || nameOf(a).localeCompare(nameOf(b)));
  }
}
