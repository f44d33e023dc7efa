// Attachments on the visitor side (issue 14): the attach button, drag and drop onto the panel,
// pasting an image; the upload (multipart POST with the visitor's token, once a chat exists);
// and how a type 2 message shows: an image as a thumbnail (fetched with the token into a blob
// URL; a click opens it full size), any other file as a download card.
import { el, formatBytes } from "/shared/format.js";
import { t, currentLang } from "./texts.js";

const blobs = new Map(); // attachment url -> Promise<blob URL> (each file fetched once per page)

/** The attachment of a message's content, or null. */
export function attachmentOf(content) {
  const a = content && typeof content === "object" ? content.attachment : null;
  if (!a || typeof a !== "object" || typeof a.url !== "string" || !a.url.startsWith("/api/v1/attachments/")) return null;
  return a;
}

function fetchBlob(url, token) {
  if (!blobs.has(url)) {
    const p = fetch(url, { headers: { Authorization: token } }).then(async (r) => {
      if (!r.ok) throw new Error(String(r.status));
      return URL.createObjectURL(await r.blob());
    });
    p.catch(() => blobs.delete(url));
    blobs.set(url, p);
  }
  return blobs.get(url);
}

const isImage = (a) => /^image\/(png|jpeg|gif|webp)$/.test(a.mime || "");

/** The bubble's content for an attachment: a thumbnail button or a download card. */
export function attachmentView(a, token) {
  const name = typeof a.name === "string" && a.name ? a.name : "file";
  const size = formatBytes(a.size, currentLang());
  if (isImage(a)) {
    const img = el("img", { class: "thumb-img", alt: t("file_image", { name }) });
    const btn = el("button", { type: "button", class: "thumb", "aria-label": t("file_open", { name }), "aria-busy": "true" },
      img, el("span", { class: "sr-only" }, t("file_loading", { name })));
    fetchBlob(a.url, token).then((u) => {
      img.src = u;
      btn.removeAttribute("aria-busy");
      btn.lastChild.remove();
      btn.addEventListener("click", () => window.open(u, "_blank", "noopener"));
    }, () => { btn.replaceChildren(el("span", { class: "file-missing" }, t("file_unavailable", { name }))); btn.disabled = true; });
    return btn;
  }
  const card = el("button", { type: "button", class: "file-card", "aria-label": t("file_download", { name, size }) },
    el("span", { class: "file-icon", "aria-hidden": "true" }, fileIcon()),
    el("span", { class: "file-text" }, el("span", { class: "file-name" }, name), el("span", { class: "file-size" }, size)));
  card.addEventListener("click", async () => {
    try {
      const u = await fetchBlob(a.url, token);
      const link = el("a", { href: u, download: name, hidden: true });
      document.body.appendChild(link);
      link.click();
      link.remove();
    } catch { card.classList.add("file-missing"); }
  });
  return card;
}

function fileIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "22"); svg.setAttribute("height", "22");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("fill", "currentColor");
  p.setAttribute("d", "M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5L13 3.5zM8 13v2h8v-2H8zm0 4v2h5v-2H8z");
  svg.appendChild(p);
  return svg;
}

/**
 * Wires the attach button, the file input, drag and drop and paste.
 * ctx: {button, input, dropzone, root, textarea, token(), chatId(), canUpload(),
 *       onStart(file) → id, onDone(id, chatId, attachment), onFail(id, file, message)}
 */
export function setupAttachments(ctx) {
  ctx.button.addEventListener("click", () => { if (ctx.canUpload()) ctx.input.click(); });
  ctx.input.addEventListener("change", () => {
    for (const f of [...(ctx.input.files || [])]) upload(ctx, f);
    ctx.input.value = "";
  });
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  ctx.root.addEventListener("dragenter", (e) => {
    if (!hasFiles(e) || !ctx.canUpload()) return;
    e.preventDefault();
    depth++;
    ctx.dropzone.hidden = false;
  });
  ctx.root.addEventListener("dragover", (e) => { if (hasFiles(e) && ctx.canUpload()) e.preventDefault(); });
  ctx.root.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; ctx.dropzone.hidden = true; } });
  ctx.root.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    ctx.dropzone.hidden = true;
    if (!ctx.canUpload()) return;
    for (const f of [...e.dataTransfer.files]) upload(ctx, f);
  });
  ctx.textarea.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (!files.length || !ctx.canUpload()) return;
    e.preventDefault();
    files.forEach((f) => upload(ctx, f.name && f.name !== "image.png" ? f : new File([f], `pasted-${Date.now()}.${(f.type.split("/")[1] || "png")}`, { type: f.type })));
  });
}

async function upload(ctx, file) {
  const chatId = ctx.chatId();
  const id = ctx.onStart(file);
  try {
    const form = new FormData();
    form.append("file", file, file.name || "file");
    const res = await fetch(`/api/v1/chats/${encodeURIComponent(chatId)}/attachments`, {
      method: "POST", headers: { Authorization: ctx.token() }, body: form,
    });
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (!res.ok || !body || !body.attachment) {
      const msg = body && body.error && typeof body.error.message === "string" ? body.error.message : t("file_error");
      ctx.onFail(id, file, msg);
      return;
    }
    ctx.onDone(id, body.chat_id || chatId, body.attachment);
  } catch {
    ctx.onFail(id, file, t("file_error"));
  }
}
