// Browser check of issue 15's email link, against a server of its own: a visitor writes while
// nobody is available, the server emails the staff list (a real SMTP sink on loopback, here),
// the link is read out of the email's text part, and opening it in a fresh browser (sign-in
// first, as someone coming from their mailbox) shows that very chat selected in the console.
// Then the visitor's side: the staff reply she missed while away is emailed to her, and its
// "continue the conversation" link opened in a fresh browser (a phone, no session) shows the
// conversation; at its end, "Email me the transcript" sends it to the sink.
//
//   node email15.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import fs from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { WAIT, sleep, freePort, stopServer, isMain, runAlone } from "./suite.mjs";

const ADMIN = { email: "erin@example.com", password: "erin-pass-123", name: "Erin Owner", role: "admin" };

/** A small SMTP server: every DATA it accepts lands in `mails` as raw text. */
export function smtpSink() {
  const mails = [];
  const server = net.createServer((sock) => {
    sock.setEncoding("utf8");
    sock.write("220 sink.test ESMTP\r\n");
    let buf = ""; let inData = false; let data = "";
    sock.on("data", (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 2);
        if (inData) {
          if (line === ".") { inData = false; mails.push(data); data = ""; sock.write("250 Queued\r\n"); }
          else data += (line.startsWith("..") ? line.slice(1) : line) + "\r\n";
          continue;
        }
        const cmd = line.toUpperCase();
        if (cmd.startsWith("EHLO")) sock.write("250-sink.test\r\n250 8BITMIME\r\n");
        else if (cmd === "DATA") { inData = true; sock.write("354 Go ahead\r\n"); }
        else if (cmd === "QUIT") { sock.end("221 Bye\r\n"); }
        else sock.write("250 OK\r\n");
      }
    });
    sock.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, mails, port: server.address().port })));
}

/** The text/plain part of a raw email, quoted-printable decoded. */
export function textPart(raw) {
  const start = raw.indexOf("Content-Type: text/plain");
  const body = raw.slice(raw.indexOf("\r\n\r\n", start) + 4, raw.indexOf("\r\n--", start));
  return body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

export async function email15Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  const check = (name, fn) => runCheck(`email15: ${name}`, fn, { independent: true });
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const DATA = fs.mkdtempSync(path.join(os.tmpdir(), "frontdesk-email15-"));
  const PORT = await freePort();
  const BASE = `http://127.0.0.1:${PORT}`;
  execFileSync(BIN, ["user", "add", "--email", ADMIN.email, "--name", ADMIN.name, "--role", ADMIN.role, "--password", ADMIN.password, "--data", DATA],
    { stdio: ["ignore", "ignore", "inherit"] });
  const fd = fs.openSync(path.join(DATA, "server.log"), "a");
  const server = spawn(BIN, ["serve", "--listen", `127.0.0.1:${PORT}`, "--data", DATA], { stdio: ["ignore", fd, fd] });
  const sink = await smtpSink();
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try { up = (await fetch(`${BASE}/healthz`)).ok; } catch { await sleep(100); }
    }
    const json = (method, url, body, token) => fetch(`${BASE}${url}`, {
      method, headers: { "Content-Type": "application/json", ...(token ? { Authorization: token } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    let link = null;
    let adminToken = null;
    let visitorPage = null;
    let consolePage = null;
    await check("a message left while nobody is there reaches the staff list by email", async () => {
      const login = await (await json("POST", "/api/v1/auth/login", { email: ADMIN.email, password: ADMIN.password })).json();
      adminToken = login.access_token;
      const res = await json("PATCH", "/api/v1/settings", {
        smtp_url: `smtp://127.0.0.1:${sink.port}?tls=none`, email_from: "Shop <shop@example.com>", notify_emails: [ADMIN.email],
      }, login.access_token);
      assert(res.ok, `PATCH settings: ${res.status} ${await res.text()}`);
      const v = await (await json("POST", "/api/v1/visitors", { name: "Nora Night", email: "nora@example.net" })).json();
      const { ticket } = await (await json("POST", "/api/v1/ws-ticket", null, v.access_token)).json();
      const page = await newPage("email15 visitor");
      visitorPage = page;
      const ack = await page.evaluate(({ url }) => new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onopen = () => ws.send(JSON.stringify({ event: "visitor_msg", data: { content: "Are you open on Sunday?", timestamp: Date.now() }, id: 1 }));
        ws.onmessage = (e) => { const f = JSON.parse(e.data); if (f.ack === 1) resolve(f); };
        setTimeout(() => reject(new Error("no ack within 10 s")), 10000);
      }), { url: `${BASE.replace(/^http/, "ws")}/ws?ticket=${encodeURIComponent(ticket)}` });
      assert(ack.result === true, `visitor_msg refused: ${JSON.stringify(ack)}`);
      const t0 = Date.now();
      while (!sink.mails.length && Date.now() - t0 < WAIT) await sleep(100);
      assert(sink.mails.length === 1, `${sink.mails.length} emails`);
      const text = textPart(sink.mails[0]);
      assert(text.includes("> Are you open on Sunday?"), text);
      link = (text.match(/Open the chat: (\S+)/) || [])[1];
      assert(link && link.startsWith(`${BASE}/console/#chat=`), `no console link in: ${text}`);
    });
    await check("the email's link opens that chat in the console after signing in", async () => {
      assert(link, "no link from the step before");
      const page = await newPage("email15 console", { width: 1280, height: 800 });
      consolePage = page;
      await page.goto(link);
      await page.fill("#login-email", ADMIN.email);
      await page.fill("#login-password", ADMIN.password);
      await page.click("#login-submit");
      await page.locator("#conn.conn-ok").waitFor({ timeout: WAIT });
      await page.locator("#conv-name", { hasText: "Nora Night" }).waitFor({ timeout: WAIT });
      assert(await page.locator("#conv").isVisible(), "the conversation is not shown");
      await page.locator("#thread", { hasText: "Are you open on Sunday?" }).waitFor({ timeout: WAIT });
      const hash = await page.evaluate(() => location.hash);
      assert(hash === "#/inbox", `the address still says ${hash}`);
      await shot(page, "email15-linked-chat-1280.png");
    });
    let resumeLink = null;
    await check("a reply the visitor missed while away is emailed to her with a resume link", async () => {
      assert(consolePage && visitorPage && adminToken, "no console or visitor from the steps before");
      const res = await json("PATCH", "/api/v1/settings", { email_reply_after_secs: 1, widget: { title: "Sunny Shop" } }, adminToken);
      assert(res.ok, `PATCH settings: ${res.status} ${await res.text()}`);
      await consolePage.click("#claim-btn");
      await consolePage.locator("#composer-input").waitFor({ state: "visible", timeout: WAIT });
      await consolePage.fill("#composer-input", "Yes, from 10 to 4 on Sundays.");
      await consolePage.press("#composer-input", "Enter");
      await consolePage.locator("#thread", { hasText: "Yes, from 10 to 4 on Sundays." }).waitFor({ timeout: WAIT });
      // She closes her tab without reading it.
      await visitorPage.context().close();
      const t0 = Date.now();
      while (sink.mails.length < 2 && Date.now() - t0 < WAIT) await sleep(100);
      assert(sink.mails.length === 2, `${sink.mails.length} emails`);
      const raw = sink.mails[1];
      assert(/^To: .*nora@example\.net/m.test(raw), raw.slice(0, 600));
      assert(/^Subject: Erin Owner replied to you \(Sunny Shop\)/m.test(raw), raw.slice(0, 600));
      const text = textPart(raw);
      assert(text.includes("> Erin Owner: Yes, from 10 to 4 on Sundays."), text);
      resumeLink = (text.match(/Continue the conversation: (\S+)/) || [])[1];
      assert(resumeLink && resumeLink.startsWith(`${BASE}/chat/?resume=`), `no resume link in: ${text}`);
    });
    await check("the resume link opened in a fresh browser (a phone) shows the conversation", async () => {
      assert(resumeLink, "no link from the step before");
      const page = await newPage("email15 resumed", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      await page.goto(resumeLink);
      await page.locator("#messages", { hasText: "Yes, from 10 to 4 on Sundays." }).waitFor({ timeout: WAIT });
      await page.locator("#messages", { hasText: "Are you open on Sunday?" }).waitFor({ timeout: WAIT });
      const search = await page.evaluate(() => location.search);
      assert(!search.includes("resume"), `the token stays in the address bar: ${search}`);
      const session = await page.evaluate(() => JSON.parse(localStorage.getItem("frontdesk.visitor") || "null"));
      assert(session && session.visitor && session.visitor.name === "Nora Night", `session: ${JSON.stringify(session)}`);
      await shot(page, "email15-resumed-390.png");

      // A second try of a wrong link says so, and the page still works as a fresh start.
      const other = await newPage("email15 bad link", { width: 390, height: 844 });
      await other.goto(`${BASE}/chat/?resume=${"0".repeat(64)}`);
      await other.locator("#notice", { hasText: "does not work any more" }).waitFor({ timeout: WAIT });
      await other.context().close();

      // The end of the chat: the transcript by email, the address prefilled.
      await page.click("#end-chat");
      await page.click("#confirm-end-yes");
      await page.locator("#transcript-open").waitFor({ state: "visible", timeout: WAIT });
      await page.click("#transcript-open");
      const prefilled = await page.inputValue("#transcript-email");
      assert(prefilled === "nora@example.net", `prefilled: ${prefilled}`);
      await shot(page, "email15-transcript-form-390.png");
      await page.click("#transcript-send");
      await page.locator(".transcript-sent", { hasText: "nora@example.net" }).waitFor({ timeout: WAIT });
      const t0 = Date.now();
      while (sink.mails.length < 3 && Date.now() - t0 < WAIT) await sleep(100);
      assert(sink.mails.length === 3, `${sink.mails.length} emails`);
      const raw = sink.mails[2];
      assert(/^Subject: Your chat transcript \(Sunny Shop\)/m.test(raw), raw.slice(0, 600));
      const text = textPart(raw);
      assert(text.includes("> You: Are you open on Sunday?") && text.includes("> Erin Owner: Yes, from 10 to 4 on Sundays."), text);
    });
    await check("the same link after the chat ended shows it ended; the transcript is not sent twice", async () => {
      assert(resumeLink, "no link from the step before");
      const page = await newPage("email15 resumed again", { width: 390, height: 844 });
      await page.goto(resumeLink);
      await page.locator("#messages", { hasText: "Yes, from 10 to 4 on Sundays." }).waitFor({ timeout: WAIT });
      await page.locator("#ended").waitFor({ state: "visible", timeout: WAIT });
      await page.click("#transcript-open");
      await page.click("#transcript-send");
      await page.locator("#transcript-error", { hasText: "already sent" }).waitFor({ timeout: WAIT });
      assert(sink.mails.length === 3, `${sink.mails.length} emails`);
    });
  } finally {
    sink.server.close();
    await stopServer(server);
  }
}

// ---- alone: node email15.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("email15", email15Checks);
