// A link from an email (issue 15): /chat/?resume=TOKEN continues a conversation on any device.
// The token is exchanged for this visitor's access token (POST /api/v1/visitors/resume), kept
// as the chat page's session, and taken out of the address bar; then the page connects as
// usual and visitor_init brings the chat (or, once it has ended, the history shows it). A link
// that no longer works says so and the page starts as it would without it.
import { t } from "./texts.js";
import { saveSession, LAST_CHAT_KEY } from "./state.js";

/** Uses `?resume=` if the page has one; `node` shows why not. */
export async function resumeFromLink(params, node) {
  const token = params.get("resume");
  if (!token) return;
  const url = new URL(location.href);
  url.searchParams.delete("resume");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  try {
    const res = await fetch("/api/v1/visitors/resume", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }),
    });
    if (!res.ok) throw new Error(String(res.status));
    const data = await res.json();
    saveSession({ token: data.access_token, expires_at: data.expires_at || null, visitor: data.visitor });
    // If the chat has ended meanwhile, the page shows it from the history (as after a reload).
    if (typeof data.chat_id === "string") {
      try { localStorage.setItem(LAST_CHAT_KEY, JSON.stringify({ chat_id: data.chat_id, at: Date.now() })); } catch { /* ignore */ }
    }
  } catch {
    node.textContent = t("resume_failed");
    node.className = "notice notice-warn";
    node.setAttribute("role", "alert");
    node.hidden = false;
  }
}
