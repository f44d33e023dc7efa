// First-run setup: posts the form with the one-time token from the URL. Opened again after the
// admin exists (GET /api/v1/setup), it says so and links to the console instead of the form.
const form = document.getElementById("setup-form");
const done = document.getElementById("setup-done");
const message = document.getElementById("message");
const token = new URLSearchParams(location.search).get("token") || "";
const FIELDS = [
  ["full_name", "your name"],
  ["email", "your email"],
  ["password", "a password"],
];

async function checkDone() {
  try {
    const res = await fetch("/api/v1/setup");
    const data = res.ok ? await res.json() : null;
    if (data && data.admin_exists) {
      form.hidden = true;
      done.hidden = false;
      document.getElementById("done-title").focus();
      return;
    }
  } catch { /* the form stays; posting it tells what is wrong */ }
  if (!token) message.textContent = "This page needs the setup link printed in the server's log.";
}
checkDone();

function fieldError(name, text) {
  const input = form[name];
  const out = document.getElementById(`${name}-error`);
  out.textContent = text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

form.addEventListener("input", (e) => { if (e.target.name) fieldError(e.target.name, ""); });

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("submit");
  message.className = "error";
  message.textContent = "";
  // Every missing field at once, each marked where it is.
  const missing = FIELDS.filter(([name]) => !form[name].value.trim());
  for (const [name, words] of FIELDS) fieldError(name, missing.some(([n]) => n === name) ? `Please enter ${words}.` : "");
  if (missing.length) {
    message.textContent = `Missing: ${missing.map(([, words]) => words).join(", ")}.`;
    form[missing[0][0]].focus();
    return;
  }
  button.disabled = true;
  const body = {
    token,
    full_name: form.full_name.value,
    email: form.email.value,
    password: form.password.value,
  };
  try {
    const res = await fetch("/setup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) {
      if (res.status === 409) { form.hidden = true; done.hidden = false; return; }
      message.textContent = data.error ? data.error.message : "Setup failed.";
      button.disabled = false;
      return;
    }
    localStorage.setItem("frontdesk.staff_token", data.access_token);
    message.className = "ok";
    message.textContent = "Your account is ready. Opening the console…";
    setTimeout(() => location.assign("/console/"), 600);
  } catch (e) {
    message.textContent = "The server could not be reached. Try again.";
    button.disabled = false;
  }
});
