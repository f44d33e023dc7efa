// "Your profile" (issue 15): every staff member sets the display name, title and photo that
// visitors see (PATCH /api/v1/staff/{me}, PUT/DELETE /api/v1/staff/{me}/avatar), and switches
// Web Push on this device (`PushSwitch` below, with /console/sw.js). Opened from the name in
// the top bar.

import { staffName, setChildren, hueFor, el } from "/shared/format.js";
import "/console/texts.js";
import { addTexts, t } from "/shared/i18n.js";
import { api, getToken } from "/console/api.js";
import { photoOrInitials } from "/console/inbox/ui.js";

addTexts("en", {
  "profile.open": "Your profile",
  "profile.title": "Your profile",
  "profile.intro": "Visitors see your display name, title and photo.",
  "profile.choose": "Choose a photo…",
  "profile.remove": "Remove photo",
  "profile.display_name": "Display name",
  "profile.job_title": "Title",
  "profile.optional": "(optional)",
  "profile.close": "Close",
  "profile.save": "Save",
  "profile.saved": "Your profile is saved.",
  "profile.photo_saved": "Your photo is saved.",
  "profile.photo_removed": "Your photo is removed.",
  "profile.uploading": "Uploading your photo…",
});

const $ = (id) => document.getElementById(id);

export class Profile {
  /** `me`: the signed-in staff object (updated in place); `changed(me)`: redraw what shows it. */
  constructor({ me, toast, changed }) {
    this.me = me;
    this.toast = toast;
    this.changed = changed;
    $("me-button").addEventListener("click", () => this.open());
    $("profile-cancel").addEventListener("click", () => $("profile-dialog").close());
    $("profile-form").addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    $("profile-choose").addEventListener("click", () => $("profile-file").click());
    $("profile-file").addEventListener("change", () => this.upload());
    $("profile-remove").addEventListener("click", () => this.removePhoto());
    this.push = new PushSwitch(toast);
  }

  open() {
    $("profile-error").textContent = "";
    $("pf-display-name").value = this.me.display_name || "";
    $("pf-title").value = this.me.title || "";
    this.drawPhoto();
    this.push.refresh();
    $("profile-dialog").showModal();
    $("pf-display-name").focus();
  }

  drawPhoto() {
    const a = $("profile-avatar");
    a.dataset.hue = String(hueFor(this.me.id) % 12);
    setChildren(a, photoOrInitials(staffName(this.me), this.me.avatar_url));
    $("profile-remove").hidden = !this.me.avatar_url;
  }

  /** The server's answer is the new staff object: fields it left out are gone. */
  take(updated) {
    if (!updated || !updated.id) return;
    for (const k of ["display_name", "title", "avatar_url"]) delete this.me[k];
    Object.assign(this.me, updated);
    this.drawPhoto();
    this.changed(this.me);
  }

  async save() {
    const display = $("pf-display-name").value.trim();
    const title = $("pf-title").value.trim();
    $("profile-save").disabled = true;
    try {
      this.take(await api(`/api/v1/staff/${encodeURIComponent(this.me.id)}`, {
        method: "PATCH", body: { display_name: display || null, title: title || null },
      }));
      $("profile-dialog").close();
      this.toast(t("profile.saved"));
    } catch (e) {
      $("profile-error").textContent = e.message;
    } finally {
      $("profile-save").disabled = false;
    }
  }

  async upload() {
    const file = $("profile-file").files[0];
    $("profile-file").value = "";
    if (!file) return;
    $("profile-error").textContent = t("profile.uploading");
    await this.photoRequest("PUT", file, "profile.photo_saved");
  }

  async removePhoto() {
    await this.photoRequest("DELETE", null, "profile.photo_removed");
  }

  async photoRequest(method, body, okKey) {
    try {
      const res = await fetch(`/api/v1/staff/${encodeURIComponent(this.me.id)}/avatar`, {
        method, body, headers: { Authorization: getToken() || "", "Content-Type": "application/octet-stream" },
      });
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new Error((data && data.error && data.error.message) || res.statusText);
      this.take(data);
      $("profile-error").textContent = "";
      this.toast(t(okKey));
    } catch (e) {
      $("profile-error").textContent = e.message;
    }
  }
}

// ---- Web Push on this device ---------------------------------------------------------------

const SW_URL = "/console/sw.js";
const SW_SCOPE = "/console/";

/** The VAPID key (base64url) as the bytes `pushManager.subscribe` takes. */
function keyBytes(b64url) {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/**
 * Signing out on a shared computer: this device stops getting the person's pushes (the browser
 * unsubscribes, the server forgets the subscription). Never throws; nothing to do without one.
 */
export async function forgetPushDevice(token) {
  try {
    if (!pushSupported()) return;
    const reg = await navigator.serviceWorker.getRegistration(SW_SCOPE);
    const sub = reg && (await reg.pushManager.getSubscription());
    if (!sub) return;
    const endpoint = sub.endpoint;
    await sub.unsubscribe();
    await fetch("/api/v1/push/subscriptions", {
      method: "DELETE", headers: { Authorization: token, "Content-Type": "application/json" }, body: JSON.stringify({ endpoint }),
    });
  } catch { /* offline or refused: the push service drops it in time */ }
}

/**
 * "Notifications on this device": a switch in the profile dialog. On: the service worker is
 * registered, permission asked, the browser subscribed with the server's VAPID key and the
 * subscription POSTed; off: unsubscribed here and DELETEd on the server. The worker is
 * registered whenever the console loads, so a notification's click works in any case.
 */
class PushSwitch {
  constructor(toast) {
    this.toast = toast;
    this.box = el("input", { type: "checkbox", role: "switch", id: "pf-push", "aria-describedby": "pf-push-status" });
    this.status = el("p", { class: "muted", id: "pf-push-status", "aria-live": "polite" });
    const row = el("div", { class: "push-setting", id: "pf-push-row" },
      el("label", { class: "check", for: "pf-push" }, this.box, " ", el("span", { text: t("push.switch") })),
      this.status);
    $("profile-error").before(row);
    this.box.addEventListener("change", () => this.toggle());
    if (pushSupported() && window.isSecureContext) {
      navigator.serviceWorker.register(SW_URL, { scope: SW_SCOPE }).catch(() => { /* said on use */ });
    }
  }

  say(key, vars) { this.status.textContent = t(key, vars); }

  async subscription() {
    const reg = await navigator.serviceWorker.getRegistration(SW_SCOPE);
    return reg ? reg.pushManager.getSubscription() : null;
  }

  /** Shows what this device is set to now. */
  async refresh() {
    if (!window.isSecureContext) return this.disable("push.insecure");
    if (!pushSupported()) return this.disable("push.unsupported");
    this.box.disabled = false;
    if (Notification.permission === "denied") {
      this.box.checked = false;
      return this.say("push.blocked");
    }
    try {
      const sub = await this.subscription();
      this.box.checked = Boolean(sub);
      this.say(sub ? "push.on" : "push.help");
    } catch {
      this.box.checked = false;
      this.say("push.help");
    }
  }

  disable(key) {
    this.box.checked = false;
    this.box.disabled = true;
    this.say(key);
  }

  async toggle() {
    const on = this.box.checked;
    this.box.disabled = true;
    this.say("push.working");
    try {
      if (on) await this.turnOn();
      else await this.turnOff();
      this.toast(t(on ? "push.turned_on" : "push.turned_off"));
    } catch (e) {
      this.box.checked = !on;
      this.say(e && e.sentenceKey ? e.sentenceKey : "push.failed", { reason: (e && e.message) || String(e) });
      this.box.disabled = false;
      return;
    }
    this.box.disabled = false;
    await this.refresh();
  }

  async turnOn() {
    await navigator.serviceWorker.register(SW_URL, { scope: SW_SCOPE });
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      const e = new Error(permission);
      e.sentenceKey = permission === "denied" ? "push.blocked" : "push.refused";
      throw e;
    }
    const reg = await navigator.serviceWorker.ready;
    const { public_key: key } = await api("/api/v1/push/key");
    let sub = await reg.pushManager.getSubscription();
    if (sub && sub.options && sub.options.applicationServerKey) {
      // Made with another server key (a restored or different server): start over.
      const had = new Uint8Array(sub.options.applicationServerKey);
      const want = keyBytes(key);
      if (had.length !== want.length || had.some((b, i) => b !== want[i])) {
        await sub.unsubscribe();
        sub = null;
      }
    }
    if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    await api("/api/v1/push/subscriptions", { method: "POST", body: sub.toJSON() });
  }

  async turnOff() {
    const sub = await this.subscription();
    if (!sub) return;
    const endpoint = sub.endpoint;
    await sub.unsubscribe();
    await api("/api/v1/push/subscriptions", { method: "DELETE", body: { endpoint } });
  }
}
