// Browser checks of issue 15 (the owner's side: the widget's look, the snippet, setup), against
// servers of their own (own data dirs, ports and accounts):
//
//   - an admin changes the colour, greeting, position and launcher text in the console's Widget
//     section; the preview follows as they type; a bad colour is refused under its field and
//     changes nothing;
//   - the shop's page (the plain snippet, no data-*), reloaded, shows the new colour on the
//     launcher, on the left with its text, and the greeting in the chat; a data-color attribute
//     still wins over the setting;
//   - Copy puts the snippet on the clipboard (and announces "Copied"); where the clipboard refuses,
//     the snippet is selected for Ctrl+C instead;
//   - setup: an empty form names every missing field; once the admin exists, the setup link
//     says so with a link to the console.
//
//   node settings15.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import http from "node:http";
import fs from "node:fs";
import { sleep, stopServer, isMain, runAlone, ownServer } from "./suite.mjs";

const ADMIN = { email: "sven@example.com", password: "sven-pass-123", name: "Sven Owner", role: "admin" };
const AGENT = { email: "ada@example.com", password: "ada-pass-1234", name: "Ada Agent", role: "agent" };
const GREETING = "Welcome to Atlas Maps! Ask us <anything> about our maps.";
const TEAL = "#0f766e";
const TEAL_RGB = "rgb(15, 118, 110)";
const VIOLET_RGB = "rgb(124, 58, 237)";

/**
 * @param {object} ctx  check(name, fn, {independent}), assert, newPage(label, viewport, contextOptions), BIN, shot
 */
export async function settings15Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  let anyFailed = false;
  let chainBroken = false;
  // The shop's checks need the saved settings: after a failed step of the chain the rest is skipped.
  const check = (name, fn, { independent = false } = {}) => runCheck(`settings15: ${name}`, async () => {
    if (chainBroken && !independent) throw new Error("skipped: an earlier settings15 step failed");
    try { await fn(); } catch (e) { anyFailed = true; if (!independent) chainBroken = true; throw e; }
  }, { independent: true });
  if (!BIN) {
    await check("needs --bin (it starts servers of its own)", async () => { throw new Error("no --bin given"); }, { independent: true });
    return;
  }
  const main = await ownServer(BIN, "settings15", [ADMIN, AGENT]);
  const { BASE } = main;
  const SNIPPET = `<script src="${BASE}/widget.js" async></script>`;
  const shopPage = (attrs) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Atlas Maps</title></head>
<body style="font-family:Georgia,serif;margin:0;background:#f4f1ea"><h1 style="padding:20px">Atlas Maps</h1>
${attrs ? SNIPPET.replace(" async>", ` async ${attrs}>`) : SNIPPET}</body></html>`;
  const host = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(shopPage(req.url.includes("violet") ? 'data-color="#7c3aed"' : ""));
  });
  await new Promise((r) => host.listen(0, "127.0.0.1", r));
  const SHOP = `http://127.0.0.1:${host.address().port}/`;
  const launcher = (page) => page.locator("[data-frontdesk-widget] button.l");
  const background = (loc) => loc.evaluate((n) => getComputedStyle(n).backgroundColor);
  let admin = null;
  let setup = null;

  try {
    await check("the admin's Widget section shows the current look, a preview and the snippet", async () => {
      admin = await newPage("settings15 admin", { width: 1280, height: 900 },
        { permissions: ["clipboard-read", "clipboard-write"] });
      await admin.goto(`${BASE}/console/`);
      await admin.fill("#login-email", ADMIN.email);
      await admin.fill("#login-password", ADMIN.password);
      await admin.click("#login-submit");
      await admin.locator("#conn.conn-ok").waitFor();
      await admin.goto(`${BASE}/console/#/team`);
      await admin.locator("#widget-settings-form[data-loaded=true]").waitFor();
      assert(await admin.inputValue("#ws-color") === "#2f6fed", `colour: ${await admin.inputValue("#ws-color")}`);
      assert(await admin.inputValue("#ws-snippet") === SNIPPET, `snippet: ${await admin.inputValue("#ws-snippet")}`);
      // Every field has a label a screen reader reads.
      for (const id of ["ws-color", "ws-title", "ws-greeting", "ws-position", "ws-language", "ws-launcher_text"]) {
        assert(await admin.locator(`label[for=${id}]`).count() === 1, `no label for #${id}`);
      }
    });

    await check("the preview follows the form as it is typed, before saving", async () => {
      await admin.fill("#ws-color", TEAL);
      await admin.fill("#ws-greeting", GREETING);
      await admin.fill("#ws-launcher_text", "Questions?");
      await admin.selectOption("#ws-position", "left");
      const pv = admin.locator("#ws-preview");
      assert(await background(pv.locator(".ws-pv-launcher")) === TEAL_RGB, `preview launcher: ${await background(pv.locator(".ws-pv-launcher"))}`);
      assert(await background(pv.locator(".ws-pv-head")) === TEAL_RGB, "preview header not teal");
      assert(await pv.locator(".ws-pv-greeting").textContent() === GREETING, "preview greeting");
      assert(await pv.locator(".ws-pv-ltext").textContent() === "Questions?", "preview launcher text");
      assert(await pv.locator(".ws-pv-stage.ws-left").count() === 1, "preview not on the left");
      const avail = await (await fetch(`${BASE}/api/v1/availability`)).json();
      assert(avail.widget.color === "#2f6fed", `saved before Save: ${JSON.stringify(avail.widget)}`);
    });

    await check("Save stores it; a bad colour is refused under its field and changes nothing", async () => {
      await admin.click("#ws-save");
      await admin.locator("#ws-status", { hasText: "Widget settings saved." }).waitFor();
      let w = (await (await fetch(`${BASE}/api/v1/availability`)).json()).widget;
      assert(w.color === TEAL && w.greeting === GREETING && w.position === "left" && w.launcher_text === "Questions?", JSON.stringify(w));
      await admin.fill("#ws-color", "blue");
      await admin.fill("#ws-title", "Never saved");
      await admin.click("#ws-save");
      await admin.locator("#ws-color-error", { hasText: "expected a colour like #2f6fed." }).waitFor();
      assert(await admin.getAttribute("#ws-color", "aria-invalid") === "true", "the colour is not marked invalid");
      assert(await admin.evaluate(() => document.activeElement && document.activeElement.id) === "ws-color", "focus not on the refused field");
      w = (await (await fetch(`${BASE}/api/v1/availability`)).json()).widget;
      assert(w.color === TEAL && w.title === "", `changed by a refused save: ${JSON.stringify(w)}`);
      await shot(admin, "settings15-widget-refused.png");
      await admin.fill("#ws-color", TEAL);
      await admin.fill("#ws-title", "");
      await admin.click("#ws-save");
      await admin.locator("#ws-status", { hasText: "Widget settings saved." }).waitFor();
      assert(await admin.locator("#ws-color-error").textContent() === "", "the refusal stays after a good save");
    });

    await check("the shop's page, reloaded, has the new colour, side and launcher text, and the greeting in the chat", async () => {
      const page = await newPage("settings15 shop", { width: 1280, height: 800 });
      await page.goto(SHOP);
      const l = launcher(page);
      await l.waitFor();
      assert(await background(l) === TEAL_RGB, `launcher: ${await background(l)}`);
      assert((await l.textContent()).includes("Questions?"), `launcher text: ${await l.textContent()}`);
      const box = await l.boundingBox();
      assert(box && box.x < 100, `launcher not on the left: ${JSON.stringify(box)}`);
      await l.click();
      const f = page.frameLocator("iframe[title='Chat with us']");
      await f.locator("#greeting", { hasText: GREETING }).waitFor();
      const header = await f.locator("header.head").evaluate((n) => getComputedStyle(n).backgroundColor);
      await shot(page, "settings15-shop.png");
      assert(header === TEAL_RGB, `chat header: ${header}`);
      await page.context().close();
    });

    await check("a data-color attribute on the snippet still wins over the setting", async () => {
      const page = await newPage("settings15 shop violet", { width: 1280, height: 800 });
      await page.goto(`${SHOP}violet`);
      const l = launcher(page);
      await l.waitFor();
      assert(await background(l) === VIOLET_RGB, `launcher: ${await background(l)}`);
      await page.context().close();
    }, { independent: true });

    await check("Copy puts the snippet on the clipboard and says so", async () => {
      await admin.click("#ws-copy");
      await admin.locator("#ws-copy-status", { hasText: "Copied" }).waitFor();
      const got = await admin.evaluate(() => navigator.clipboard.readText());
      assert(got === SNIPPET, `clipboard: ${got}`);
    }, { independent: true });

    await check("where the clipboard refuses, Copy selects the snippet instead", async () => {
      await admin.evaluate(() => {
        navigator.clipboard.writeText = () => Promise.reject(new Error("denied"));
        document.execCommand = () => false;
      });
      await admin.click("#ws-copy");
      await admin.locator("#ws-copy-status", { hasText: "Selected" }).waitFor();
      const sel = await admin.evaluate(() => {
        const t = document.activeElement;
        return t && t.id === "ws-snippet" ? t.value.slice(t.selectionStart, t.selectionEnd) : `focus on ${t && t.id}`;
      });
      assert(sel === SNIPPET, `selected: ${sel}`);
    }, { independent: true });

    await check("an agent sees the widget's settings and its snippet read-only, under Widget", async () => {
      const page = await newPage("settings15 agent", { width: 1280, height: 900 });
      await page.goto(`${BASE}/console/`);
      await page.fill("#login-email", AGENT.email);
      await page.fill("#login-password", AGENT.password);
      await page.click("#login-submit");
      await page.locator("#conn.conn-ok").waitFor();
      assert(await page.locator("#nav-team").isHidden(), "an agent sees the admins' page");
      await page.click("#nav-widget");
      await page.locator("#widget-view #widget-settings-form[data-loaded=true]").waitFor();
      assert(await page.getAttribute("#nav-widget", "aria-current") === "page", "the Widget tab is not marked current");
      assert(await page.inputValue("#ws-color") === TEAL, `colour: ${await page.inputValue("#ws-color")}`);
      for (const id of ["ws-color", "ws-title", "ws-greeting", "ws-position", "ws-language", "ws-launcher_text"]) {
        assert(await page.locator(`#${id}`).isDisabled(), `#${id} can be edited by an agent`);
      }
      assert(await page.locator("#ws-save").isHidden(), "an agent has a Save button");
      await page.locator("#widget-view", { hasText: "Only admins can change it." }).waitFor();
      assert(await page.inputValue("#ws-snippet") === SNIPPET, "no snippet for the agent");
      await shot(page, "settings15-agent-widget.png");
      await page.click("#nav-inbox");
      await page.locator("#inbox-view").waitFor({ state: "visible" });
      assert(await page.locator("#widget-view").isHidden(), "the widget page stays over the inbox");
      await page.context().close();
    }, { independent: true });

    await check("setup: an empty form names every missing field; afterwards the link says the admin exists", async () => {
      setup = await ownServer(BIN, "settings15-setup", []);
      let token = "";
      for (let i = 0; i < 100 && !token; i++) {
        const m = /\/setup\?token=([0-9a-f]{64})/.exec(fs.readFileSync(setup.log, "utf8"));
        if (m) token = m[1]; else await sleep(100);
      }
      assert(token, "no setup link in the log");
      const page = await newPage("settings15 setup", { width: 390, height: 844 });
      await page.goto(`${setup.BASE}/setup?token=${token}`);
      await page.click("#submit");
      for (const id of ["full_name", "email", "password"]) {
        await page.locator(`#${id}-error`).filter({ hasText: /\S/ }).waitFor();
        assert(await page.getAttribute(`#${id}`, "aria-invalid") === "true", `#${id} not marked invalid`);
      }
      const msg = await page.textContent("#message");
      assert(/name/.test(msg) && /email/.test(msg) && /password/.test(msg), `message: ${msg}`);
      await page.fill("#full_name", "Sven Owner");
      await page.fill("#email", "sven@shop.example");
      await page.fill("#password", "sven-pass-123");
      await page.click("#submit");
      await page.waitForURL(/\/console\//);
      await page.goto(`${setup.BASE}/setup?token=${token}`);
      await page.locator("#setup-done", { hasText: "An administrator account exists" }).waitFor();
      assert(await page.locator("#setup-form").isHidden(), "the form still shows");
      assert(await page.getAttribute("#setup-done a", "href") === "/console/", "no link to the console");
      await shot(page, "settings15-setup-done.png");
      // The main server's admin was made with the CLI: its setup page says so too.
      await page.goto(`${BASE}/setup`);
      await page.locator("#setup-done").waitFor();
      await page.context().close();
    }, { independent: true });
  } finally {
    host.close();
    if (admin) await admin.context().close().catch(() => {});
    await stopServer(main.server);
    if (setup) await stopServer(setup.server);
    if (anyFailed) console.log(`     (settings15 server log: ${main.log}${setup ? `, ${setup.log}` : ""})`);
    else for (const s of [main, setup]) if (s) fs.rmSync(s.DATA, { recursive: true, force: true });
  }
}

// ---- alone: node settings15.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("settings15", settings15Checks);
