// First-run setup: posts the form with the one-time token from the URL.
const form = document.getElementById("setup-form");
const message = document.getElementById("message");
const token = new URLSearchParams(location.search).get("token") || "";

if (!token) {
  message.textContent = "This page needs the setup link printed in the server's log.";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("submit");
  button.disabled = true;
  message.className = "error";
  message.textContent = "";
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
