// The end of a chat on the visitor side (issue 14): the inactivity warning, and the rating
// offered once the chat has ended (👍/👎 and an optional comment → `rate_chat`).
import { el, setChildren } from "/shared/format.js";
import { t } from "./texts.js";

/**
 * The rating form in `section`. `send(rating, comment)` → Promise (the acked request).
 * Returns {offer(), reset(), render()}: offer() shows it (once per ended chat).
 */
export function ratingForm(section, send, announce) {
  const s = { shown: false, choice: null, busy: false, done: false, error: "" };
  const comment = el("textarea", { id: "rate-comment", rows: "2", maxlength: "1000" });
  const good = el("button", { type: "button", class: "rate-btn", id: "rate-good", "aria-pressed": "false" });
  const bad = el("button", { type: "button", class: "rate-btn", id: "rate-bad", "aria-pressed": "false" });
  const submit = el("button", { type: "submit", class: "btn-primary", id: "rate-send" });
  const error = el("p", { class: "field-error", id: "rate-error", role: "alert" });
  const form = el("form", { class: "rate-form", novalidate: true });
  good.addEventListener("click", () => { s.choice = "good"; s.error = ""; render(); });
  bad.addEventListener("click", () => { s.choice = "bad"; s.error = ""; render(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (s.busy || s.done) return;
    if (!s.choice) { s.error = t("rate_pick"); render(); good.focus(); return; }
    s.busy = true; s.error = ""; render();
    try {
      const c = comment.value.trim();
      await send(s.choice, c ? c.slice(0, 1000) : undefined);
      s.done = true;
      announce(t("rate_thanks"));
    } catch (err) {
      s.error = err && err.message ? err.message : String(err);
    }
    s.busy = false;
    render();
    if (s.done) section.querySelector(".rate-thanks")?.focus();
  });

  function render() {
    section.hidden = !s.shown;
    if (!s.shown) return;
    if (s.done) {
      setChildren(section, el("p", { class: "rate-thanks", tabindex: "-1" }, t("rate_thanks")));
      return;
    }
    good.replaceChildren(el("span", { "aria-hidden": "true" }, "👍"), " ", t("rate_good"));
    bad.replaceChildren(el("span", { "aria-hidden": "true" }, "👎"), " ", t("rate_bad"));
    good.setAttribute("aria-pressed", String(s.choice === "good"));
    bad.setAttribute("aria-pressed", String(s.choice === "bad"));
    submit.textContent = s.busy ? t("rate_sending") : t("rate_send");
    submit.disabled = s.busy;
    error.textContent = s.error;
    if (!form.firstChild) {
      form.append(
        el("p", { class: "rate-title", id: "rating-title" }, t("rate_title")),
        el("div", { class: "rate-choice", role: "group", "aria-labelledby": "rating-title" }, good, bad),
        el("label", { for: "rate-comment", class: "rate-label" }, t("rate_comment")), comment, error, submit);
    }
    if (section.firstChild !== form) setChildren(section, form);
  }

  return {
    offer() { if (!s.shown) { s.shown = true; render(); } },
    reset() { Object.assign(s, { shown: false, choice: null, busy: false, done: false, error: "" }); comment.value = ""; render(); },
    render,
    get shown() { return s.shown; },
  };
}

/** The inactivity warning: counts down from `seconds_left`; hidden again by any new message. */
export function inactivityNotice(node) {
  let timer = null;
  let until = 0;
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    node.textContent = t("timeout_warning", { n: left });
    if (left <= 0) { clearInterval(timer); timer = null; }
  };
  return {
    warn(seconds) {
      if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return;
      until = Date.now() + seconds * 1000;
      node.hidden = false;
      node.className = "notice notice-warn";
      node.setAttribute("aria-live", "polite");
      tick();
      clearInterval(timer);
      // The live region reads the first sentence; the countdown then updates without a new announcement.
      timer = setInterval(() => { node.setAttribute("aria-live", "off"); tick(); }, 1000);
    },
    clear() {
      clearInterval(timer);
      timer = null;
      node.hidden = true;
      node.setAttribute("aria-live", "polite");
    },
  };
}
