// Browser checks of issue 15's Email section in the console, against a server of its own and a
// real SMTP sink on loopback (the one email15.mjs uses):
//
//   - the admin fills the SMTP server, the sender and the notification list and saves; the
//     section says email is on and the server has exactly those values;
//   - a password in the URL never comes back to the page: the field shows ********, and saving
//     the form as shown is accepted and still shows it masked (that the server then keeps the
//     stored password is the unit test in src/email/settings.rs);
//   - a bad sender is refused under its field, naming it, and nothing changes;
//   - "Send test email" sends one email to the address in the field (the admin's own by default)
//     and says so; the "Recent emails" list shows the test email as sent.
//
//   node email_settings15.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import { WAIT, stopServer, isMain, runAlone, ownServer, chained } from "./suite.mjs";
import { smtpSink, textPart } from "./email15.mjs";

const ADMIN = { email: "olga@example.com", password: "olga-pass-123", name: "Olga Owner", role: "admin" };

export async function emailSettings15Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  // One chain: each step needs the one before.
  const check = chained(runCheck, "email settings15");
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const { BASE, server } = await ownServer(BIN, "emailset15", [ADMIN]);
  const sink = await smtpSink();
  const SMTP = `smtp://127.0.0.1:${sink.port}?tls=none`;
  let admin = null;
  let token = null;
  const settings = async () => (await fetch(`${BASE}/api/v1/settings`, { headers: { Authorization: token } })).json();
  try {
    await check("the admin turns email on from the console", async () => {
      admin = await newPage("email settings admin", { width: 1280, height: 900 });
      await admin.goto(`${BASE}/console/`);
      await admin.fill("#login-email", ADMIN.email);
      await admin.fill("#login-password", ADMIN.password);
      await admin.click("#login-submit");
      await admin.locator("#conn.conn-ok").waitFor();
      token = await admin.evaluate(() => localStorage.getItem("frontdesk.staff_token"));
      await admin.goto(`${BASE}/console/#/team`);
      await admin.locator("#email-settings-form[data-loaded=true]").waitFor();
      await admin.locator("#em-state", { hasText: "Email is off" }).waitFor();
      for (const id of ["em-smtp_url", "em-email_from", "em-notify_emails", "em-email_reply_after_secs", "em-test-to"]) {
        assert(await admin.locator(`label[for=${id}]`).count() === 1, `no label for #${id}`);
      }
      assert(await admin.inputValue("#em-test-to") === ADMIN.email, "the test address is not the admin's own");
      await admin.fill("#em-smtp_url", SMTP);
      await admin.fill("#em-email_from", "Atlas Maps <shop@example.com>");
      await admin.fill("#em-notify_emails", `${ADMIN.email}\nsam@example.com`);
      assert(await admin.inputValue("#em-email_reply_after_secs") === "300", "the default delay is not shown");
      await admin.fill("#em-email_reply_after_secs", "600");
      await admin.click("#em-save");
      await admin.locator("#em-saved", { hasText: "Email settings saved." }).waitFor();
      await admin.locator("#em-state", { hasText: "Email is on." }).waitFor();
      const s = await settings();
      assert(s.smtp_url === SMTP && s.email_from === "Atlas Maps <shop@example.com>"
        && JSON.stringify(s.notify_emails) === JSON.stringify([ADMIN.email, "sam@example.com"])
        && s.email_reply_after_secs === 600, JSON.stringify(s));
      await shot(admin, "console-email-settings.png");
    });

    await check("a password is shown masked and kept when saved as shown", async () => {
      await admin.fill("#em-smtp_url", `smtp://mailer:s3cret-pw@127.0.0.1:${sink.port}?tls=none`);
      await admin.click("#em-save");
      await admin.locator("#em-saved", { hasText: "Email settings saved." }).waitFor();
      const shown = await admin.inputValue("#em-smtp_url");
      assert(shown.includes("mailer:********@") && !shown.includes("s3cret"), `the field shows: ${shown}`);
      assert(!(await admin.content()).includes("s3cret"), "the password is somewhere in the page");
      // Saved again as shown (with the mask): accepted, and still masked.
      await admin.click("#em-save");
      await admin.locator("#em-saved", { hasText: "Email settings saved." }).waitFor();
      const s = await settings();
      assert(s.smtp_url === shown, `after saving as shown: ${s.smtp_url}`);
      // Back to the sink without credentials (it offers no AUTH) for the test email below.
      await admin.fill("#em-smtp_url", SMTP);
      await admin.click("#em-save");
      await admin.locator("#em-saved", { hasText: "Email settings saved." }).waitFor();
    });

    await check("a bad sender is refused under its field and nothing changes", async () => {
      await admin.fill("#em-email_from", "not an address");
      await admin.click("#em-save");
      const err = admin.locator("#em-email_from-error");
      await err.filter({ hasText: /\S/ }).waitFor();
      assert(await admin.getAttribute("#em-email_from", "aria-invalid") === "true", "the field is not marked invalid");
      assert(await admin.evaluate(() => document.activeElement.id) === "em-email_from", "focus is not on the bad field");
      const s = await settings();
      assert(s.email_from === "Atlas Maps <shop@example.com>", `changed anyway: ${s.email_from}`);
      await admin.fill("#em-email_from", "Atlas Maps <shop@example.com>");
    });

    await check("Send test email reaches the sink, says so, and shows in Recent emails", async () => {
      const before = sink.mails.length;
      await admin.click("#em-test-send");
      await admin.locator("#em-test-result", { hasText: `Sent to ${ADMIN.email}.` }).waitFor({ timeout: WAIT });
      assert(sink.mails.length === before + 1, `${sink.mails.length - before} emails reached the sink`);
      const raw = sink.mails[sink.mails.length - 1];
      assert(/^To: .*olga@example\.com/mi.test(raw), `not to the admin: ${raw.slice(0, 400)}`);
      assert(/^From: .*shop@example\.com/mi.test(raw), "not from the saved sender");
      assert(textPart(raw).trim().length > 0, "no text part");
      await admin.locator("#em-status li[data-kind=test].em-ok", { hasText: "Test email" }).waitFor();
      await shot(admin, "console-email-test-sent.png");
    });
  } finally {
    sink.server.close();
    await stopServer(server);
  }
}

// ---- alone: node email_settings15.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("email_settings15", emailSettings15Checks);
