// "Your profile" (issue 15): every staff member sets the display name, title and photo that
// visitors see (PATCH /api/v1/staff/{me}, PUT/DELETE /api/v1/staff/{me}/avatar). Opened from
// the name in the top bar.

import { staffName, setChildren, hueFor } from "/shared/format.js";
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
  }

  open() {
    $("profile-error").textContent = "";
    $("pf-display-name").value = this.me.display_name || "";
    $("pf-title").value = this.me.title || "";
    this.drawPhoto();
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
