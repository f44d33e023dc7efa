// Several console tabs of one staff member in this browser (issue 12): the server keeps ONE live
// session, so one tab is live and the others follow. They talk over a BroadcastChannel:
//
//   live     the live tab's summary (how many wait in the queue, how many chats are mine), sent
//            when it changes and when a tab says hello: a following tab shows it instead of an
//            empty inbox that would look as if nobody were waiting.
//   hello    a tab that was refused ("already online") asks who is live here.
//   takeover a tab is taking the session with `force`: the live tab stops at once, without
//            reconnecting, and follows.
//   bye      the live tab is closing: a following tab connects in its place.
//
// Messages carry the staff id: tabs of another account (after a sign-out) ignore them.

const CHANNEL = "frontdesk.console";

export class ConsoleTabs {
  /**
   * @param {string} staffId
   * @param {object} on  callbacks: `summary(s)` (a live tab's summary), `takenOver()`,
   *   `liveGone()`, `hello()` (another tab asks: answer with `announce` if live)
   */
  constructor(staffId, on) {
    this.staffId = staffId;
    this.on = on;
    this.id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
    this.lastSummary = null;
    this.heardLive = 0;
    if (this.channel) this.channel.onmessage = (ev) => this.receive(ev.data);
  }

  post(type, extra = {}) {
    if (!this.channel) return;
    try { this.channel.postMessage({ type, staff: this.staffId, tab: this.id, ...extra }); } catch { /* closed */ }
  }

  receive(m) {
    if (!m || m.staff !== this.staffId || m.tab === this.id) return;
    if (m.type === "live") { this.heardLive = Date.now(); this.on.summary(m.summary || null); }
    else if (m.type === "hello") this.on.hello();
    else if (m.type === "takeover") this.on.takenOver();
    else if (m.type === "bye") this.on.liveGone();
  }

  /** The live tab tells the others what it shows (only when it changed, unless `always`). */
  announce(summary, always = false) {
    const key = JSON.stringify(summary);
    if (!always && key === this.lastSummary) return;
    this.lastSummary = key;
    this.post("live", { summary });
  }

  /** Asks whether a tab of this browser is live; resolves true if one answers within `ms`. */
  async askLive(ms = 400) {
    if (!this.channel) return false;
    const since = Date.now();
    this.post("hello");
    await new Promise((r) => setTimeout(r, ms));
    return this.heardLive >= since;
  }

  takeover() { this.lastSummary = null; this.post("takeover"); }
  bye() { this.post("bye"); }
}

/** What a following tab says about the live one's inbox. */
export function summaryText(s) {
  if (!s) return "";
  const parts = [];
  parts.push(s.queue === 0 ? "nobody is waiting in the queue" : `${s.queue} ${s.queue === 1 ? "visitor is" : "visitors are"} waiting in the queue`);
  parts.push(s.mine === 0 ? "you have no open chats" : `you have ${s.mine} open ${s.mine === 1 ? "chat" : "chats"}`);
  if (s.offline) parts.push(`${s.offline} ${s.offline === 1 ? "visitor" : "visitors"} left a message`);
  return `In that tab: ${parts.join(", ")}.`;
}
