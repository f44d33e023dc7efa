// Browser check of issue 15's Web Push switch, against a server of its own: the console
// registers its service worker (/console/sw.js, scope /console/) and "Your profile" has the
// "Notifications on this device" switch, reachable by keyboard, saying what it is set to.
// Headless Chromium has no push service, so nothing is subscribed for real here; the push
// itself (encryption, VAPID, when it is sent) is tested in tests/it/push.rs.
//
//   node push15.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { WAIT, sleep, freePort, stopServer, isMain, runAlone } from "./suite.mjs";

const AGENT = { email: "pat@example.com", password: "pat-pass-1234", name: "Pat Agent", role: "agent" };

export async function push15Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  const check = (name, fn) => runCheck(`push15: ${name}`, fn, { independent: true });
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const DATA = fs.mkdtempSync(path.join(os.tmpdir(), "frontdesk-push15-"));
  const PORT = await freePort();
  const BASE = `http://127.0.0.1:${PORT}`;
  execFileSync(BIN, ["user", "add", "--email", AGENT.email, "--name", AGENT.name, "--role", AGENT.role, "--password", AGENT.password, "--data", DATA],
    { stdio: ["ignore", "ignore", "inherit"] });
  const fd = fs.openSync(path.join(DATA, "server.log"), "a");
  const server = spawn(BIN, ["serve", "--listen", `127.0.0.1:${PORT}`, "--data", DATA], { stdio: ["ignore", fd, fd] });
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try { up = (await fetch(`${BASE}/healthz`)).ok; } catch { await sleep(100); }
    }
    let page = null;
    await check("the console registers its service worker for /console/", async () => {
      page = await newPage("push15 console", { width: 1280, height: 800 });
      await page.goto(`${BASE}/console/`);
      await page.fill("#login-email", AGENT.email);
      await page.fill("#login-password", AGENT.password);
      await page.click("#login-submit");
      await page.locator("#conn.conn-ok").waitFor({ timeout: WAIT });
      const reg = await page.evaluate(async () => {
        const r = await Promise.race([
          navigator.serviceWorker.ready,
          new Promise((_, reject) => setTimeout(() => reject(new Error("no active worker within 10 s")), 10000)),
        ]);
        return { scope: r.scope, script: r.active && r.active.scriptURL, state: r.active && r.active.state };
      });
      assert(reg.scope === `${BASE}/console/`, `scope ${reg.scope}`);
      assert(reg.script === `${BASE}/console/sw.js`, `script ${reg.script}`);
      assert(["activating", "activated"].includes(reg.state), `state ${reg.state}`);
    });
    await check("Your profile has the switch, reachable by keyboard, saying it is off", async () => {
      await page.click("#me-button");
      const box = page.locator("#profile-dialog #pf-push");
      await box.waitFor({ state: "visible", timeout: WAIT });
      assert(await box.getAttribute("role") === "switch", "not a switch");
      assert(!(await box.isChecked()), "on before anything was allowed");
      assert(!(await box.isDisabled()), "disabled although Chromium has PushManager");
      const label = await page.getByLabel("Notifications on this device").count();
      assert(label === 1, `labelled ${label} times`);
      const status = page.locator("#pf-push-status");
      await page.waitForFunction(() => document.getElementById("pf-push-status").textContent.length > 0, null, { timeout: WAIT });
      assert(/console tab/.test(await status.textContent()), `status: ${await status.textContent()}`);
      assert(await box.getAttribute("aria-describedby") === "pf-push-status", "the status does not describe the switch");
      // Keyboard: Tab from the title field reaches the switch before the dialog's buttons.
      await page.focus("#pf-title");
      let reached = false;
      for (let i = 0; i < 6 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(() => document.activeElement && document.activeElement.id === "pf-push");
      }
      assert(reached, "Tab never reaches the switch");
      await shot(page, "push15-profile-switch-1280.png");
      await page.keyboard.press("Escape");
    });
  } finally {
    await stopServer(server);
  }
}

// ---- alone: node push15.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("push15", push15Checks);
