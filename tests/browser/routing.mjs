// Browser checks of issue 13 (routing and the waiting visitor), against a server of their own
// (own data dir, own port, own accounts), so that "nobody is available" is really true:
//
//   - the widget's offline path at phone width (390 px) and at desktop width: "No one is
//     available right now." before writing, the message kept, no spinner, the email form sent as
//     `visitor_update`, the confirmation; then a staff member signs in and the console's "Left a
//     message" list shows each visitor's email (from staff_init);
//   - data-hide-when-offline: no launcher while nobody is available, a launcher once somebody is;
//   - the availability switch: a click, a second console sees the colleague's status change live,
//     a reload keeps it, the keyboard sets it back;
//   - a transfer between two agents in two browser contexts: A claims, transfers to B with a
//     note; B gets the chat with its history and the note; the visitor's page shows B's name;
//     a transfer to a colleague who went offline is refused inside the dialog.
//
//   node routing.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { WAIT, sleep, freePort, stopServer, isMain, runAlone } from "./suite.mjs";


const ADMIN = { email: "rosa@example.com", password: "rosa-pass-123", name: "Rosa Router", role: "admin" };
const AGENT_A = { email: "anton@example.com", password: "anton-pass-123", name: "Anton Agent", role: "agent" };
const AGENT_B = { email: "berta@example.com", password: "berta-pass-123", name: "Berta Agent", role: "agent" };

/**
 * @param {object} ctx
 * @param {Function} ctx.check    check(name, fn, {independent})
 * @param {Function} ctx.assert
 * @param {Function} ctx.newPage  newPage(label, viewport, contextOptions) → a page in a new context
 * @param {string}   ctx.BIN      the server binary (these checks start their own server)
 * @param {Function} [ctx.shot]   shot(page, file)
 */
export async function routingChecks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  let anyFailed = false; // the data dir and log stay for a look only when something failed
  const check = (name, fn, o) => runCheck(name, async () => {
    try { await fn(); } catch (e) { anyFailed = true; throw e; }
  }, o);
  if (!BIN) {
    await check("routing: needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); }, { independent: true });
    return;
  }
  const DATA = fs.mkdtempSync(path.join(os.tmpdir(), "frontdesk-routing-"));
  const PORT = await freePort();
  const BASE = `http://127.0.0.1:${PORT}`;
  const log = path.join(DATA, "server.log");
  for (const u of [ADMIN, AGENT_A, AGENT_B]) {
    execFileSync(BIN, ["user", "add", "--email", u.email, "--name", u.name, "--role", u.role, "--password", u.password, "--data", DATA],
      { stdio: ["ignore", "ignore", "inherit"] });
  }
  const fd = fs.openSync(log, "a");
  // A short staff grace: a closed console counts as offline soon (the refused transfer).
  const server = spawn(BIN, ["serve", "--listen", `127.0.0.1:${PORT}`, "--data", DATA, "--reconnect-grace", "20"], { stdio: ["ignore", fd, fd] });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    try { up = (await fetch(`${BASE}/healthz`)).ok; } catch { await sleep(100); }
  }

  const TITLE = "Lumen help";
  const hostPage = (extra) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Lumen Lamps</title></head>
<body style="font-family:Georgia,serif;margin:0;background:#f7f5f0"><header style="background:#23303b;color:#fff;padding:16px 20px;font-size:20px">Lumen Lamps</header>
<main style="padding:20px"><h1>Desk lamps</h1><p>Warm light, built to last.</p></main>
<script src="${BASE}/widget.js" async data-title="${TITLE}" data-color="#7c3aed" ${extra}></script></body></html>`;
  const host = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(hostPage(req.url.includes("hide") ? "data-hide-when-offline" : ""));
  });
  await new Promise((r) => host.listen(0, "127.0.0.1", r));
  const HOST = `http://127.0.0.1:${host.address().port}/`;

  const frame = (page) => page.frameLocator(`iframe[title='${TITLE}']`);
  const launcher = (page) => page.locator("[data-frontdesk-widget] button.l");
  const api = async (p, { method = "GET", body, token } = {}) => {
    const res = await fetch(`${BASE}${p}`, { method, headers: { ...(token ? { Authorization: token } : {}), ...(body ? { "Content-Type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { status: res.status, data };
  };
  const login = async (page, who) => {
    await page.goto(`${BASE}/console/`);
    await page.fill("#login-email", who.email);
    await page.fill("#login-password", who.password);
    await page.click("#login-submit");
    await page.locator("#conn.conn-ok").waitFor();
  };
  /** Nothing of the frame's document sticks out sideways (usable at phone width). */
  const noSideScroll = async (page) => {
    const f = page.frames().find((x) => x.url().includes("/chat/"));
    const [sw, cw] = await f.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert(sw <= cw + 1, `the chat page is wider than its frame: ${sw} > ${cw}`);
  };

  /** The widget's offline path for one visitor at one size; returns the page. */
  const offlineVisitor = async (label, viewport, extra, who) => {
    const page = await newPage(label, viewport, extra);
    await page.goto(HOST);
    await launcher(page).click();
    const f = frame(page);
    // Before writing: said plainly (GET /api/v1/availability; no visitor is created for it).
    await f.locator("#offline", { hasText: "No one is available right now." }).waitFor();
    await f.locator("#input").fill(who.text);
    await f.locator("#input").press("Enter");
    await f.locator(".msg-me .bubble", { hasText: who.text }).waitFor();
    // no_staff_available: the form, and neither a spinner nor "You're next in line".
    await f.locator("#contact").waitFor({ state: "visible" });
    assert(await f.locator("#waiting").isHidden(), "the waiting spinner shows while nobody is available");
    assert(!(await f.locator("#app").textContent()).includes("next in line"), "\"next in line\" shown while nobody is available");
    // Labelled inputs: found by their labels.
    const form = f.locator("#contact");
    await form.getByLabel("Name").fill(who.name);
    await form.getByLabel("Email").fill("not-an-email");
    await f.locator("#contact-save").click();
    await f.locator("#contact-error", { hasText: "check the email" }).waitFor();
    await form.getByLabel("Email").fill(who.email);
    await noSideScroll(page);
    await shot(page, `offline-form-${label}.png`);
    await form.getByLabel("Email").press("Enter");
    await f.locator("#contact-saved", { hasText: `We'll reply to ${who.email}` }).waitFor();
    await f.locator("#contact").waitFor({ state: "hidden" });
    await noSideScroll(page);
    await shot(page, `offline-saved-${label}.png`);
    return page;
  };

  const PHONE = { name: "Pia Phone", email: "pia@example.net", text: "Do you ship the Arc lamp to Norway?" };
  const DESK = { name: "Dirk Desk", email: "dirk@example.net", text: "Is the Dome lamp dimmable?" };
  let a = null; let b = null; let admin = null;

  try {
    await check("routing: nobody available; the widget's offline form at 390 px (say so, keep the message, email by visitor_update)", async () => {
      assert(up, `the routing server did not start; log:\n${fs.readFileSync(log, "utf8")}`);
      const avail = await api("/api/v1/availability");
      assert(avail.status === 200 && avail.data && avail.data.available === false, `availability: ${JSON.stringify(avail)}`);
      await offlineVisitor("phone", { width: 390, height: 844 }, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, PHONE);
    }, { independent: true });

    await check("routing: the same offline form at desktop width", async () => {
      await offlineVisitor("desktop", { width: 1280, height: 800 }, {}, DESK);
    }, { independent: true });

    let hidePage = null; // a shop page with data-hide-when-offline, opened while nobody is available
    await check("routing: data-hide-when-offline hides the launcher while nobody is available", async () => {
      const page = await newPage("hide-offline", { width: 1024, height: 700 });
      await page.goto(`${HOST}?hide`);
      await page.frameLocator(`iframe[title='${TITLE}']`).locator("#offline").waitFor({ state: "attached" });
      await sleep(1500); // the chat page has answered the availability by now
      assert(await launcher(page).isHidden(), "the launcher shows while nobody is available");
      hidePage = page;
    }, { independent: true });

    await check("routing: a staff member signs in; \"Left a message\" lists both visitors with their emails", async () => {
      admin = await newPage("admin", { width: 1366, height: 820 });
      await login(admin, ADMIN);
      for (const v of [PHONE, DESK]) {
        const item = admin.locator("#list-offline .item", { hasText: v.name });
        await item.waitFor();
        assert((await item.textContent()).includes(v.email), `no email in the offline row: ${await item.textContent()}`);
      }
      await admin.locator("#list-offline .item", { hasText: PHONE.name }).click();
      await admin.locator("#thread .bubble", { hasText: PHONE.text }).waitFor();
      await admin.locator("#visitor-facts", { hasText: PHONE.email }).waitFor();
      await shot(admin, "console-left-a-message.png");
    }, { independent: true });

    await check("routing: the same shop page shows its launcher once somebody is available", async () => {
      assert(hidePage, "the launcher was not hidden while nobody was available");
      await hidePage.reload();
      await launcher(hidePage).waitFor({ state: "visible" });
      await hidePage.context().close();
    }, { independent: true });

    await check("routing: the availability switch; a second console sees it live; a reload keeps it; the keyboard sets it back", async () => {
      a = await newPage("agent A", { width: 1366, height: 820 });
      b = await newPage("agent B", { width: 1366, height: 820 });
      await login(a, AGENT_A);
      await login(b, AGENT_B);
      const rowOfA = (status) => b.locator(`#online-staff .person[data-availability=${status}]`, { hasText: AGENT_A.name });
      await rowOfA("available").waitFor();
      const sw = a.locator("#availability-switch");
      assert((await sw.getAttribute("role")) === "switch" && (await sw.getAttribute("aria-checked")) === "true", "not a switch that is on");
      await sw.click();
      await a.locator("#availability[data-status=away]:not([aria-busy])").waitFor();
      assert((await sw.getAttribute("aria-checked")) === "false", "the switch did not turn off");
      await rowOfA("away").waitFor();
      assert((await rowOfA("away").textContent()).includes("Away"), `no "Away" word: ${await rowOfA("away").textContent()}`);
      await shot(b, "console-colleague-away.png");
      await a.reload();
      await a.locator("#conn.conn-ok").waitFor();
      await a.locator("#availability-switch[aria-checked=false]").waitFor();
      await rowOfA("away").waitFor();
      await a.focus("#availability-switch");
      await a.keyboard.press("Space");
      await a.locator("#availability-switch[aria-checked=true]").waitFor();
      await rowOfA("available").waitFor();
      // The load beside each colleague: active of max ("0/3").
      const load = await rowOfA("available").locator(".load").getAttribute("data-load");
      assert(/^\d+\/\d+$/.test(load || ""), `no load "n/m" beside the colleague: ${load}`);
    }, { independent: true });

    await check("routing: agent A claims, transfers to B with a note; B gets history and note; the visitor sees B's name; a supervisor moves it back", async () => {
      assert(a && b, "the agents' consoles are not open");
      const v = await newPage("transfer visitor", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      await v.goto(`${BASE}/chat/`);
      const FIRST = "My lamp flickers when dimmed.";
      await v.locator("#input").fill(FIRST);
      await v.locator("#input").press("Enter");
      await v.locator("#waiting").waitFor({ state: "visible" });
      const item = a.locator("#list-queue .item", { hasText: FIRST });
      await item.click();
      await a.click("#claim-btn");
      await a.locator("#composer").waitFor({ state: "visible" });
      await a.locator("#composer-input").fill("Let me find our lighting expert.");
      await a.locator("#composer-input").press("Enter");
      await v.locator(".msg-staff .bubble", { hasText: "lighting expert" }).waitFor();
      // The dialog: colleagues (not me) with status and load.
      await a.click("#conv-transfer");
      const dialog = a.locator("#transfer-dialog");
      await dialog.waitFor({ state: "visible" });
      const optB = dialog.locator(".transfer-option", { hasText: AGENT_B.name });
      await optB.waitFor();
      assert(await dialog.locator(".transfer-option", { hasText: AGENT_A.name }).count() === 0, "I am offered as my own transfer target");
      const optText = await optB.textContent();
      assert(optText.includes("Available") && /\d+\/\d+/.test(optText), `no status and load in the option: ${optText}`);
      await optB.locator("label").click();
      await dialog.getByLabel("Note for your colleague").fill("Flicker on dimmer, model Arc 2. <b>not bold</b>");
      await shot(a, "console-transfer-dialog.png");
      await dialog.locator("#transfer-submit").click();
      await dialog.waitFor({ state: "hidden" });
      // A: no longer one of my chats.
      await a.locator("#list-mine .item[data-status=mine]", { hasText: FIRST }).waitFor({ state: "detached" });
      // B: the chat is open with its history and the note (as text, not markup).
      await b.locator("#list-mine .item[data-status=mine]").first().waitFor();
      await b.locator("#conv[data-status=mine]").waitFor();
      await b.locator("#thread .bubble", { hasText: FIRST }).waitFor();
      await b.locator("#thread .bubble", { hasText: "lighting expert" }).waitFor();
      await b.locator("#conv-banner", { hasText: "Flicker on dimmer, model Arc 2. <b>not bold</b>" }).waitFor();
      assert(await b.locator("#conv-banner b").count() === 0, "the note was rendered as markup");
      await b.locator("#participants .person", { hasText: AGENT_B.name }).waitFor();
      assert(await b.locator("#participants .person", { hasText: AGENT_A.name }).count() === 0, "A is still listed in the chat after the transfer");
      await shot(b, "console-transferred-to-me.png");
      // The visitor: B's name in the header and the note in the conversation.
      await v.locator(".note", { hasText: `You're now chatting with ${AGENT_B.name}` }).waitFor();
      await v.locator("#title", { hasText: AGENT_B.name }).waitFor();
      await shot(v, "visitor-transferred.png");
      // B replies; the visitor gets it under B's name.
      await b.locator("#composer-input").fill("Hi, Berta here. Which dimmer do you use?");
      await b.locator("#composer-input").press("Enter");
      await v.locator(".msg-staff .bubble", { hasText: "Berta here" }).waitFor();
      // A supervisor (the admin) moves it on from the chats she watches: Berta is told and loses
      // it, Anton gets it back.
      await admin.click("#nav-inbox");
      await admin.locator("#list-live .item", { hasText: "Berta here" }).click();
      await admin.click("#conv-transfer");
      const sdialog = admin.locator("#transfer-dialog");
      assert(await sdialog.locator(".transfer-option", { hasText: AGENT_B.name }).count() === 0, "the serving agent is offered as the target");
      await sdialog.locator(".transfer-option", { hasText: AGENT_A.name }).locator("label").click();
      await sdialog.locator("#transfer-submit").click();
      await sdialog.waitFor({ state: "hidden" });
      await b.locator(".toast", { hasText: `transferred your chat with` }).waitFor();
      await b.locator("#list-mine .item[data-status=mine]").waitFor({ state: "detached" });
      await a.locator("#list-mine .item[data-status=mine]", { hasText: "Berta here" }).waitFor();
      await v.locator(".note", { hasText: `You're now chatting with ${AGENT_A.name}` }).waitFor();
    }, { independent: true });

    await check("routing: a transfer to a colleague who went offline is refused inside the dialog", async () => {
      assert(a && b, "the agents' consoles are not open");
      const v = await newPage("refused visitor", { width: 800, height: 700 });
      await v.goto(`${BASE}/chat/`);
      const TEXT = "Can I return a lamp after 30 days?";
      await v.locator("#input").fill(TEXT);
      await v.locator("#input").press("Enter");
      await a.locator("#list-queue .item", { hasText: TEXT }).click();
      await a.click("#claim-btn");
      await a.locator("#composer").waitFor({ state: "visible" });
      await a.click("#conv-transfer");
      const dialog = a.locator("#transfer-dialog");
      await dialog.locator(".transfer-option", { hasText: AGENT_B.name }).locator("label").click();
      await b.context().close();
      b = null;
      await dialog.locator("#transfer-submit").click();
      await dialog.locator("#transfer-error", { hasText: /not online/i }).waitFor();
      assert(await dialog.isVisible(), "the dialog closed on a refusal");
      await a.locator("#transfer-cancel").click();
      assert((await a.locator("#conv").getAttribute("data-status")) === "mine", "a refused transfer took the chat away");
    }, { independent: true });

    await check("routing: the admin page saves routing settings and shows the server's refusal beside the form; closed hours show \"Opens …\" in the visitor's time", async () => {
      assert(admin, "the admin console is not open");
      await admin.click("#nav-team");
      await admin.locator("#routing-form[data-loaded] #rs-routing").waitFor({ state: "visible" });
      await admin.selectOption("#rs-routing", "least_busy");
      await admin.fill("#rs-timeout", "45");
      await admin.locator("#rs-always").uncheck();
      await admin.fill("#rs-zone", "Europe/Berlin");
      await admin.click("#routing-save");
      await admin.locator("#routing-status", { hasText: "saved" }).waitFor();
      const s = (await api("/api/v1/settings", { token: await admin.evaluate(() => localStorage.getItem("frontdesk.staff_token")) })).data;
      assert(s.routing === "least_busy" && s.assign_timeout_secs === 45 && s.business_hours && s.business_hours.time_zone === "Europe/Berlin",
        `stored settings: ${JSON.stringify(s)}`);
      await admin.fill("#rs-zone", "Mars/Olympus_Mons");
      await admin.click("#routing-save");
      const err = admin.locator("#routing-error");
      await err.waitFor({ state: "visible" });
      assert(/time_zone|zone/i.test(await err.textContent()), `the refusal does not name the key: ${await err.textContent()}`);
      await shot(admin, "console-routing-settings.png");
      // Closed by business hours (staff online or not): the widget says when it opens, in the
      // visitor's own time. Hours only on the day after tomorrow (UTC), so it is closed now.
      const token = await admin.evaluate(() => localStorage.getItem("frontdesk.staff_token"));
      const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
      const day = days[(new Date().getUTCDay() + 2) % 7];
      const set = await api("/api/v1/settings", { method: "PATCH", token,
        body: { business_hours: { time_zone: "UTC", weekly: [{ day, open: "09:00", close: "10:00" }] } } });
      assert(set.status === 200, `PATCH business_hours: ${JSON.stringify(set)}`);
      const avail = (await api("/api/v1/availability")).data;
      assert(avail.available === false && typeof avail.opens_at === "number", `availability while closed: ${JSON.stringify(avail)}`);
      const closed = await newPage("closed visitor", { width: 390, height: 844 }, { isMobile: true, hasTouch: true, timezoneId: "America/New_York" });
      await closed.goto(`${BASE}/chat/`);
      await closed.locator("#offline", { hasText: "No one is available right now." }).waitFor();
      const when = await closed.locator("#offline-when").textContent();
      const want = await closed.evaluate((ms) => {
        const d = new Date(ms);
        return [new Intl.DateTimeFormat(undefined, { weekday: "long" }).format(d),
          new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(d)];
      }, avail.opens_at);
      assert(when.includes(want[1]) && (when.includes(want[0]) || /today|tomorrow/.test(when)),
        `"${when}" is not the opening (${want.join(" ")}, in the visitor's time zone)`);
      await shot(closed, "offline-opens-at-phone.png");
      await closed.context().close();
      // Back to always open (the other checks of the suite expect it).
      await admin.locator("#rs-always").check();
      await admin.selectOption("#rs-routing", "manual");
      await admin.click("#routing-save");
      await admin.locator("#routing-status", { hasText: "saved" }).waitFor();
      // Capacity per staff member.
      const input = admin.getByLabel(`Max chats of ${AGENT_A.name}`);
      await input.fill("5");
      await input.press("Tab");
      await admin.locator(".toast", { hasText: "5 chats at once" }).waitFor();
      await input.fill("51");
      await input.press("Tab");
      await admin.locator(".toast-error", { hasText: "max_chats" }).waitFor();
    }, { independent: true });
    await check("routing: round robin assigns a chat to the one available agent (\"Assigned to you\"); no reply in time, or leaving before answering, gives it back to the queue and the visitor waits again", async () => {
      assert(a && admin, "the consoles are not open");
      const token = await admin.evaluate(() => localStorage.getItem("frontdesk.staff_token"));
      const set = await api("/api/v1/settings", { method: "PATCH", token,
        body: { routing: "round_robin", assign_timeout_secs: 5, assign_max_attempts: 1, business_hours: null } });
      assert(set.status === 200, `PATCH settings: ${JSON.stringify(set)}`);
      // Only Anton is available: the admin switches to Away.
      if ((await admin.locator("#availability-switch").getAttribute("aria-checked")) === "true") await admin.click("#availability-switch");
      await admin.locator("#availability[data-status=away]:not([aria-busy])").waitFor();
      const v = await newPage("routed visitor", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      // The queue positions the server sends this page, to compare with what it shows.
      const positions = [];
      v.on("websocket", (ws) => ws.on("framereceived", (f) => {
        try { const m = JSON.parse(f.payload); if (m.event === "queue_position") positions.push(m.data); } catch { /* not JSON */ }
      }));
      await v.goto(`${BASE}/chat/`);
      const TEXT = "Which bulb fits the Dome lamp?";
      await v.locator("#input").fill(TEXT);
      await v.locator("#input").press("Enter");
      // chat_assigned: open in Anton's console like a claim, with the notice and the route in words.
      await a.locator("#list-mine .item[data-status=mine]", { hasText: TEXT }).waitFor();
      await a.locator("#conv[data-status=mine]").waitFor();
      await a.locator("#conv-banner", { hasText: "Assigned to you" }).waitFor();
      await a.locator("#thread .bubble", { hasText: TEXT }).waitFor();
      await a.locator("#thread .note", { hasText: `Assigned to ${AGENT_A.name} (round robin, attempt 1)` }).waitFor();
      await v.locator(".note", { hasText: `${AGENT_A.name} joined the chat` }).waitFor();
      await shot(a, "console-assigned.png");
      // No reply within 5 s: chat_unassigned, back in the queue; the visitor waits again.
      await a.locator(".toast", { hasText: "went back to the queue" }).waitFor({ timeout: 20000 });
      await a.locator("#list-queue .item", { hasText: TEXT }).waitFor();
      await a.locator("#thread .note", { hasText: `${AGENT_A.name} did not reply within 5 s` }).waitFor();
      await a.locator("#thread .note", { hasText: "Automatic assignment stopped after 1 attempts" }).waitFor();
      await v.locator("#waiting").waitFor({ state: "visible" });
      assert(await v.locator("#ended").isHidden(), "the visitor's chat shows as ended though it waits again");
      // The estimate in words beside the position, as the last queue_position said (none when null).
      await sleep(300);
      const last = positions[positions.length - 1];
      assert(last, "no queue_position reached the visitor");
      const secs = last.estimated_wait_seconds;
      const words = secs == null ? null : secs < 60 ? "less than a minute"
        : Math.round(secs / 60) < 60 ? (Math.round(secs / 60) === 1 ? "about 1 minute" : `about ${Math.round(secs / 60)} minutes`) : null;
      const shown = await v.locator("#waiting-detail").textContent();
      assert(shown.includes(last.position === 1 ? "next in line" : `number ${last.position} in line`), `position: "${shown}" for ${JSON.stringify(last)}`);
      if (secs == null) assert(!shown.includes("·"), `an estimate is shown though the server has none: "${shown}"`);
      else if (words) assert(shown.includes(`· ${words}`), `"${shown}" does not say "${words}" for ${secs} s`);
      console.log(`     measured: queue_position ${JSON.stringify(last)} shown as "${shown}"`);
      await shot(v, "visitor-waits-again.png");
      // Leave before answering: the offer is declined and passed on, not ended.
      const v2 = await newPage("declined visitor", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      await v2.goto(`${BASE}/chat/`);
      const TEXT2 = "Do you sell spare shades?";
      await v2.locator("#input").fill(TEXT2);
      await v2.locator("#input").press("Enter");
      await a.locator("#list-mine .item[data-status=mine]", { hasText: TEXT2 }).click();
      await a.locator("#conv-banner", { hasText: "Assigned to you" }).waitFor();
      await a.click("#conv-leave");
      await a.locator(".toast", { hasText: "passed the chat with" }).waitFor();
      await a.locator("#list-queue .item", { hasText: TEXT2 }).waitFor();
      assert(await a.locator("#list-mine .item", { hasText: TEXT2 }).count() === 0, "a declined offer stays pinned in My chats");
      await a.locator("#list-queue .item", { hasText: TEXT2 }).click();
      await a.locator("#thread .note", { hasText: `${AGENT_A.name} passed the chat on` }).waitFor();
      await v2.locator("#waiting").waitFor({ state: "visible" });
      assert(await v2.locator("#ended").isHidden(), "a declined offer ended the visitor's chat");
      await v2.context().close();
      await api("/api/v1/settings", { method: "PATCH", token, body: { routing: "manual" } });
      await v.context().close();
    }, { independent: true });
    await check("routing: everyone away counts as nobody available (a waiting visitor is told); the contact a visitor leaves shows live in \"Left a message\" (visitor_updated)", async () => {
      assert(a && admin, "the consoles are not open");
      // A visitor waits while Anton is available (manual routing: in the queue, with the spinner)...
      const waiting = await newPage("waiting visitor", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      await waiting.goto(`${BASE}/chat/`);
      await waiting.locator("#input").fill("Is anyone there?");
      await waiting.locator("#input").press("Enter");
      await waiting.locator("#waiting").waitFor({ state: "visible" });
      assert(await waiting.locator("#offline").isHidden(), "the offline notice shows while an agent is available");
      for (const page of [a, admin]) {
        if ((await page.locator("#availability-switch").getAttribute("aria-checked")) === "true") await page.click("#availability-switch");
        await page.locator("#availability[data-status=away]:not([aria-busy])").waitFor();
      }
      // ...and is told plainly when the last available agent goes away: the form instead of the spinner.
      await waiting.locator("#offline", { hasText: "No one is available right now." }).waitFor();
      await waiting.locator("#contact").waitFor({ state: "visible" });
      assert(await waiting.locator("#waiting").isHidden(), "the spinner stays after nobody is available");
      await waiting.context().close();
      await admin.click("#nav-inbox");
      const v = await newPage("late visitor", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      await v.goto(`${BASE}/chat/`);
      const TEXT = "Please call me back about my order.";
      await v.locator("#input").fill(TEXT);
      await v.locator("#input").press("Enter");
      await v.locator("#contact").waitFor({ state: "visible" });
      const row = admin.locator("#list-offline .item", { hasText: TEXT });
      await row.waitFor();
      assert(!(await row.textContent()).includes("late@example.net"), "the email shows before it was given");
      await v.locator("#contact").getByLabel("Email").fill("late@example.net");
      await v.locator("#contact-save").click();
      await v.locator("#contact-saved", { hasText: "late@example.net" }).waitFor();
      await admin.locator("#list-offline .item", { hasText: "late@example.net" }).waitFor();
      await v.context().close();
    }, { independent: true });
  } finally {
    host.close();
    await stopServer(server);
    if (anyFailed) console.log(`     (routing server log: ${log})`);
    else fs.rmSync(DATA, { recursive: true, force: true });
  }
}

// ---- alone: node routing.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("routing", routingChecks);
