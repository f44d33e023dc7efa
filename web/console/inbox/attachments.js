// Attachments in the console (issue 14): uploading a file to the open chat (the attach button,
// paste, drop) as `multipart/form-data` with the staff token, and showing type 2 messages —
// images as thumbnails (fetched with the Authorization header into a blob URL; a click opens
// them full size), other files as a download card (name, size) that downloads through a blob.
// The file's URL is never put in the page as-is: it needs the token, and a blob keeps the
// server's sandboxing headers out of the way of the page.

import { el } from "/shared/format.js";
import { getToken } from "/console/api.js";
import { ct } from "/console/texts.js";

const IMAGE_MIMES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const blobs = new Map(); // attachment id -> Promise<string|null> (a blob: URL)

/** The attachment object of a type 2 message, or null. */
export function attachmentOf(m) {
  const a = m && m.type_id === 2 && m.content && m.content.attachment;
  return a && typeof a === "object" && typeof a.url === "string" ? a : null;
}

/** "12 KB", "3.4 MB". */
export function formatSize(n) {
  if (typeof n !== "number" || !isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Only our own attachment paths are fetched (never a URL a message could point elsewhere). */
function safePath(url) {
  return /^\/api\/v1\/attachments\/[A-Za-z0-9_-]{1,64}$/.test(url) ? url : null;
}

/** The file as a blob URL (once per attachment); null when it cannot be loaded. */
export function blobUrl(a) {
  const path = safePath(a.url);
  if (!path) return Promise.resolve(null);
  if (!blobs.has(a.id || path)) {
    blobs.set(a.id || path, (async () => {
      try {
        const res = await fetch(path, { headers: { Authorization: getToken() || "" } });
        if (!res.ok) return null;
        return URL.createObjectURL(await res.blob());
      } catch {
        return null;
      }
    })().then((u) => { if (!u) blobs.delete(a.id || path); return u; }));
  }
  return blobs.get(a.id || path);
}

/** The bubble content of a type 2 message: a thumbnail or a download card. */
export function attachmentView(a) {
  const name = typeof a.name === "string" && a.name ? a.name : "file";
  if (IMAGE_MIMES.has(a.mime)) {
    const img = el("img", { alt: name, class: "attachment-img" });
    const btn = el("button", { type: "button", class: "attachment-thumb", "aria-label": ct("attach.open", { name }),
      "data-attachment": a.id || "", onclick: () => openLightbox(a, name) },
    img, el("span", { class: "attachment-loading" }, ct("attach.loading")));
    blobUrl(a).then((u) => {
      const note = btn.querySelector(".attachment-loading");
      if (u) { img.src = u; if (note) note.remove(); } else if (note) note.textContent = ct("attach.unavailable");
    });
    return btn;
  }
  return el("div", { class: "attachment-card", "data-attachment": a.id || "" },
    el("span", { class: "attachment-icon", "aria-hidden": "true" }, (a.mime || "").split("/").pop().slice(0, 4).toUpperCase() || "FILE"),
    el("span", { class: "attachment-info" },
      el("span", { class: "attachment-name" }, name),
      el("span", { class: "attachment-size" }, [formatSize(a.size), a.mime ? ` · ${a.mime}` : ""].join(""))),
    el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": ct("attach.download", { name }),
      onclick: (e) => download(a, name, e.currentTarget) }, ct("attach.download_short")));
}

async function download(a, name, btn) {
  btn.disabled = true;
  try {
    const u = await blobUrl(a);
    if (!u) { btn.title = ct("attach.unavailable"); return; }
    const link = el("a", { href: u, download: name, hidden: true });
    document.body.appendChild(link);
    link.click();
    link.remove();
  } finally {
    btn.disabled = false;
  }
}

/** The full-size image in a modal dialog (Escape or the button closes it, focus comes back). */
function openLightbox(a, name) {
  let dlg = document.getElementById("lightbox");
  if (!dlg) {
    dlg = el("dialog", { id: "lightbox", class: "lightbox", "aria-label": name });
    dlg.addEventListener("click", (e) => { if (e.target === dlg) dlg.close(); });
    document.body.appendChild(dlg);
  }
  dlg.setAttribute("aria-label", name);
  const img = el("img", { alt: name });
  dlg.replaceChildren(el("figure", null, img, el("figcaption", null, name)),
    el("button", { type: "button", class: "btn btn-secondary btn-sm lightbox-close", onclick: () => dlg.close() }, ct("attach.close")));
  blobUrl(a).then((u) => { if (u) img.src = u; });
  dlg.showModal();
}

/**
 * Uploads `file` to the chat; resolves `{attachment}` (201) or throws an Error with the server's
 * sentence (413 too large, 415 type, 409 chat closed…).
 */
export async function upload(chatId, file) {
  const form = new FormData();
  form.append("file", file, file.name || "pasted-file");
  let res;
  try {
    res = await fetch(`/api/v1/chats/${encodeURIComponent(chatId)}/attachments`, {
      method: "POST", headers: { Authorization: getToken() || "" }, body: form,
    });
  } catch {
    throw new Error("The server could not be reached. Check your connection.");
  }
  let data = null;
  try { data = await res.json(); } catch { /* empty */ }
  if (!res.ok) {
    const msg = data && data.error && data.error.message;
    throw new Error(msg || (res.status === 413 ? ct("attach.too_large") : `The upload failed (${res.status}).`));
  }
  return data;
}
