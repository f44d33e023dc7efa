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

/**
 * "Email me the transcript" (issue 15), under the rating once the chat has ended: a button
 * that opens a small form with the address (prefilled when the visitor gave one, editable).
 * `send(email)` → Promise of the address it went to, or rejects with an Error carrying the
 * server's `code`. Sent once per chat (the server says so after that).
 * Returns {offer(), reset(), render()}.
 */
export function transcriptForm(section, send, knownEmail, announce) {
  const s = { shown: false, open: false, busy: false, sentTo: null, error: "" };
  const toggle = el("button", { type: "button", class: "btn-secondary", id: "transcript-open", "aria-expanded": "false", "aria-controls": "transcript-form" });
  const input = el("input", { type: "email", id: "transcript-email", autocomplete: "email", maxlength: "254", required: true, "aria-describedby": "transcript-error" });
  const submit = el("button", { type: "submit", class: "btn-primary", id: "transcript-send" });
  const error = el("p", { class: "field-error", id: "transcript-error", role: "alert" });
  const label = el("label", { for: "transcript-email", class: "rate-label" });
  const form = el("form", { class: "transcript-form", id: "transcript-form", novalidate: true }, label, input, error, submit);
  toggle.addEventListener("click", () => {
    s.open = !s.open;
    if (s.open && !input.value) input.value = knownEmail() || "";
    render();
    if (s.open) input.focus();
  });
  input.addEventListener("input", () => { if (s.error) { s.error = ""; render(); } });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (s.busy || s.sentTo) return;
    const email = input.value.trim();
    if (!email || !input.checkValidity()) { s.error = t("transcript_email_invalid"); render(); input.focus(); return; }
    s.busy = true; s.error = ""; render();
    try {
      s.sentTo = await send(email);
      announce(t("transcript_sent", { email: s.sentTo }));
    } catch (err) {
      s.error = transcriptError(err);
    }
    s.busy = false;
    render();
    if (s.sentTo) section.querySelector(".transcript-sent")?.focus();
    else if (s.error) input.focus();
  });

  function render() {
    section.hidden = !s.shown;
    if (!s.shown) return;
    if (s.sentTo) {
      setChildren(section, el("p", { class: "transcript-sent", tabindex: "-1" }, t("transcript_sent", { email: s.sentTo })));
      return;
    }
    toggle.textContent = t("transcript_offer");
    toggle.setAttribute("aria-expanded", String(s.open));
    label.textContent = t("transcript_email");
    submit.textContent = s.busy ? t("transcript_sending") : t("transcript_send");
    submit.disabled = s.busy;
    error.textContent = s.error;
    if (s.error) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    form.hidden = !s.open;
    if (section.firstChild !== toggle) setChildren(section, toggle, form);
  }

  return {
    offer() { if (!s.shown) { s.shown = true; render(); } },
    reset() { Object.assign(s, { shown: false, open: false, busy: false, sentTo: null, error: "" }); input.value = ""; render(); },
    render,
  };
}

/** A refusal in the visitor's language (the server's code), else its own sentence. */
function transcriptError(err) {
  const byCode = {
    transcript_sent: "transcript_already", email_off: "transcript_off",
    no_ended_chat: "transcript_none", bad_request: "transcript_email_invalid",
  };
  if (err && byCode[err.code]) return t(byCode[err.code]);
  return t("transcript_failed");
}
