// Browser checks of issue 16's Webhooks section in the console (team page), against a server of
// its own and a webhook receiver on loopback (node:http, here):
//
//   - the admin adds a webhook to the receiver with two events; it is listed, enabled, with its
//     secret shown once made; a bad URL is refused under the field and nothing is added;
//   - "Send test" makes the receiver get a `ping` signed with that secret (checked here with
//     node:crypto), and the hook's deliveries list shows it delivered with HTTP 200;
//   - disabling is shown and kept by the server; deleting asks first and removes it.
//
//   node webhooks16.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import { WAIT, stopServer, isMain, runAlone, ownServer, chained } from "./suite.mjs";
import http from "node:http";
import crypto from "node:crypto";

const ADMIN = { email: "wanda@example.com", password: "wanda-pass-123", name: "Wanda Admin", role: "admin" };

/** A receiver on a free loopback port that answers 200 and keeps what it got. */
async function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => { got.push({ headers: req.headers, body }); res.writeHead(200); res.end(); });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { got, server, url: `http://127.0.0.1:${server.address().port}/hook` };
}

export async function webhooks16Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  const check = chained(runCheck, "webhooks16");
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const { BASE, server } = await ownServer(BIN, "webhooks16", [ADMIN]);
  const rx = await receiver();
  let admin = null;
  let token = null;
  const hooks = async () => (await (await fetch(`${BASE}/api/v1/webhooks`, { headers: { Authorization: token } })).json()).results;
  try {
    await check("the admin adds a webhook from the console; a bad URL is refused under its field", async () => {
      admin = await newPage("webhooks admin", { width: 390, height: 844 });
      await admin.goto(`${BASE}/console/`);
      await admin.fill("#login-email", ADMIN.email);
      await admin.fill("#login-password", ADMIN.password);
      await admin.click("#login-submit");
      await admin.locator("#conn.conn-ok").waitFor();
      token = await admin.evaluate(() => localStorage.getItem("frontdesk.staff_token"));
      await admin.goto(`${BASE}/console/#/team`);
      await admin.locator("#webhooks-settings[data-loaded=true]").waitFor();
      await admin.locator("#wh-none").waitFor();
      assert(await admin.locator("label[for=wh-url]").count() === 1, "no label for the URL");
      await admin.fill("#wh-url", "ftp://example.com/x");
      await admin.click("#wh-add");
      await admin.locator("#wh-url-error", { hasText: "url" }).waitFor();
      assert(await admin.getAttribute("#wh-url", "aria-invalid") === "true", "the URL is not marked invalid");
      assert((await hooks()).length === 0, "added anyway");
      await admin.fill("#wh-url", rx.url);
      for (const e of ["chat-claimed", "message-created", "chat-rated"]) await admin.uncheck(`#wh-ev-${e}`);
      await admin.click("#wh-add");
      const item = admin.locator(".wh-item", { hasText: rx.url });
      await item.waitFor();
      await item.locator(".wh-badge", { hasText: "Enabled" }).waitFor();
      const list = await hooks();
      assert(list.length === 1 && list[0].url === rx.url
        && JSON.stringify(list[0].events) === JSON.stringify(["chat.started", "chat.ended"]), JSON.stringify(list));
      // The new hook's secret is shown, as the server has it.
      assert(await item.locator(".wh-secret-value").inputValue() === list[0].secret, "the secret shown is not the hook's");
      await shot(admin, "console-webhooks-added.png");
    });

    await check("Send test reaches the receiver signed, and the delivery is listed as delivered", async () => {
      const item = admin.locator(".wh-item", { hasText: rx.url });
      const secret = (await hooks())[0].secret;
      const before = rx.got.length;
      await item.locator("[data-action=test]").click();
      await item.locator("li[data-state=delivered]", { hasText: "ping" }).waitFor({ timeout: WAIT });
      await item.locator("li[data-state=delivered]", { hasText: "HTTP 200" }).waitFor();
      assert(rx.got.length === before + 1, `${rx.got.length - before} requests reached the receiver`);
      const { headers, body } = rx.got[rx.got.length - 1];
      assert(headers["frontdesk-event"] === "ping", JSON.stringify(headers));
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers["frontdesk-signature"] || "");
      assert(m, `signature header: ${headers["frontdesk-signature"]}`);
      const want = crypto.createHmac("sha256", secret).update(`${m[1]}.${body}`).digest("hex");
      assert(m[2] === want, "the signature does not verify with the secret shown");
      await shot(admin, "console-webhooks-delivered.png");
    });

    await check("disabling is shown and kept; deleting asks first and removes it", async () => {
      const item = admin.locator(".wh-item", { hasText: rx.url });
      await item.locator("[data-action=toggle]").click();
      await admin.locator(".wh-item .wh-badge", { hasText: "Disabled" }).waitFor();
      assert((await hooks())[0].enabled === false, "the server still has it enabled");
      // The page's confirm is answered here (the suites' own dialog handlers differ): no first,
      // then yes; it keeps the questions.
      const answer = (yes) => admin.evaluate((y) => {
        window.__asked = window.__asked || [];
        window.confirm = (m) => { window.__asked.push(m); return y; };
      }, yes);
      await answer(false);
      await admin.locator(".wh-item [data-action=delete]").click();
      await admin.waitForTimeout(500);
      const left = await hooks();
      assert(left.length === 1, `deleted although the confirmation said no: ${JSON.stringify(left)}`);
      await answer(true);
      await admin.locator(".wh-item [data-action=delete]").click();
      await admin.locator("#wh-none").waitFor();
      const asked = await admin.evaluate(() => window.__asked.join(" | "));
      assert(asked.includes(rx.url), `the confirmation did not name the URL: ${asked}`);
      assert((await hooks()).length === 0, "still on the server");
    });
  } finally {
    rx.server.close();
    await stopServer(server);
  }
}

// ---- alone: node webhooks16.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("webhooks16", webhooks16Checks);
