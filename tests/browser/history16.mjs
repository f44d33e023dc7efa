// Browser checks of issue 16's History page, against a server of its own: a visitor asks about
// an umbrella in the chat page, the admin claims, answers and leaves a note in the console; the
// visitor ends the chat and starts another, whose visitor card links the first one; the History
// page finds that chat by a word in it, opens it read-only with the reply and the note; the
// Reports page shows the figures, bars and heat map and downloads the CSV; and an agent who
// never served it does not find it (nor has Reports).
//
//   node history16.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import fs from "node:fs";
import { stopServer, isMain, runAlone, ownServer, chained } from "./suite.mjs";

const ADMIN = { email: "hana@example.com", password: "hana-pass-123", name: "Hana Owner", role: "admin" };
const AGENT = { email: "ivo@example.com", password: "ivo-pass-1234", name: "Ivo Agent", role: "agent" };
const QUESTION = "Do you still have the blue umbrella with the wooden handle?";

export async function history16Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  const check = chained(runCheck, "history16");
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const { BASE, server } = await ownServer(BIN, "history16", [ADMIN, AGENT]);
  const signIn = async (page, u) => {
    await page.goto(`${BASE}/console/`);
    await page.fill("#login-email", u.email);
    await page.fill("#login-password", u.password);
    await page.click("#login-submit");
    await page.locator("#conn.conn-ok").waitFor();
  };
  let admin = null;
  try {
    await check("a conversation with a reply and a note, made in the chat page and the console", async () => {
      admin = await newPage("history16 admin", { width: 1280, height: 860 });
      await signIn(admin, ADMIN);
      const v = await newPage("history16 visitor", { width: 400, height: 700 });
      await v.goto(`${BASE}/chat/`);
      await v.locator("#input").fill(QUESTION);
      await v.locator("#input").press("Enter");
      await v.locator(".msg-me .bubble", { hasText: QUESTION }).waitFor();
      await admin.locator("#list-queue .item", { hasText: "umbrella" }).click();
      await admin.click("#claim-btn");
      await admin.locator("#composer-input").fill("Yes, two are left in stock.");
      await admin.locator("#composer-input").press("Enter");
      await v.locator(".bubble", { hasText: "two are left" }).waitFor();
      await admin.click("#composer-note");
      await admin.locator("#composer-input").fill("Regular customer, offer free shipping");
      await admin.locator("#composer-input").press("Enter");
      await admin.locator("#thread .msg-note", { hasText: "free shipping" }).waitFor();
      // The visitor ends it and comes back with another question: the console's visitor card
      // lists the first conversation, linked to the History page.
      await v.locator("#end-chat").click();
      await v.click("#confirm-end-yes");
      await v.locator("#new-chat").click();
      await v.locator("#input").fill("One more thing: do you ship to Norway?");
      await v.locator("#input").press("Enter");
      await admin.locator("#list-queue .item", { hasText: "Norway" }).click();
      const earlier = admin.locator("#visitor-earlier a");
      await earlier.first().waitFor();
      assert(await earlier.count() === 1, `earlier conversations: ${await earlier.count()}`);
      await earlier.first().click();
      await admin.locator("#history-view").waitFor({ state: "visible" });
      await admin.locator("#hs-thread .msg-visitor", { hasText: QUESTION }).waitFor();
      await v.context().close();
    });

    await check("History finds the chat by a word and opens it read-only with the reply and the note", async () => {
      await admin.click("#nav-history");
      await admin.locator("#history-view").waitFor({ state: "visible" });
      assert(await admin.getAttribute("#nav-history", "aria-current") === "page", "History is not the current tab");
      await admin.fill("#hs-q", "UMBRELLA");
      await admin.press("#hs-q", "Enter");
      const item = admin.locator("#hs-list .item", { hasText: "wooden handle" });
      await item.waitFor();
      assert(await admin.locator("#hs-list .item").count() === 1, "more than one chat found");
      await item.click();
      const thread = admin.locator("#hs-thread");
      await thread.locator(".msg-visitor", { hasText: QUESTION }).waitFor();
      await thread.locator(".msg-staff", { hasText: "two are left" }).waitFor();
      await thread.locator(".msg-note", { hasText: "free shipping" }).waitFor();
      assert(await admin.locator("#hs-pane textarea, #hs-pane #composer").count() === 0, "the past chat can be written to");
      await admin.locator("#hs-pane", { hasText: "Served by Hana Owner" }).waitFor();
      await admin.locator("#hs-earlier button").first().waitFor();
      await shot(admin, "history16-found.png");
      // A note's words find it for staff; a word nobody wrote finds nothing.
      await admin.fill("#hs-q", "shipping");
      await admin.press("#hs-q", "Enter");
      await admin.locator("#hs-list .item", { hasText: "free shipping" }).waitFor();
      await admin.fill("#hs-q", "zeppelin");
      await admin.press("#hs-q", "Enter");
      await admin.locator("#hs-found", { hasText: "No conversation matches." }).waitFor();
      // Filters: the umbrella chat has ended, the Norway one is open.
      await admin.fill("#hs-q", "");
      await admin.selectOption("#hs-status", "ended");
      await admin.locator("#hs-list .item", { hasText: "Ended" }).first().waitFor();
      assert(await admin.locator("#hs-list .item").count() === 1, "one ended chat");
      await admin.selectOption("#hs-status", "open");
      await admin.locator("#hs-list .item .status-chip", { hasText: "Open" }).waitFor();
      assert(await admin.locator("#hs-list .item").count() === 1, "one open chat");
    });

    await check("Reports: the figures, the agents' bars, the week's heat map and the CSV", async () => {
      await admin.click("#nav-reports");
      await admin.locator("#reports-view").waitFor({ state: "visible" });
      await admin.locator("#rp-chats .rp-value", { hasText: "2" }).waitFor();
      // The umbrella chat was answered at once; the Norway one still waits, within its time.
      assert((await admin.textContent("#rp-answered .rp-value")).trim() === "1", "answered in time");
      assert((await admin.textContent("#rp-missed .rp-value")).trim() === "0", "missed");
      assert(await admin.locator("#rp-bars rect.rp-bar").count() === 1, "one agent's bar");
      assert(await admin.locator("#rp-agents tbody tr", { hasText: "Hana Owner" }).count() === 1, "the agent table names the admin");
      assert(await admin.locator("#rp-heat rect.rp-heat-cell").count() === 7 * 24, "a cell per hour of the week");
      const filled = await admin.locator("#rp-heat rect[data-n='2'], #rp-heat rect[data-n='1']").count();
      assert(filled >= 1, "no hour of the week has the chats");
      await shot(admin, "history16-reports.png");
      const [download] = await Promise.all([admin.waitForEvent("download"), admin.click("#rp-csv")]);
      const csv = fs.readFileSync(await download.path(), "utf8");
      assert(csv.startsWith("section,name,value\n") && csv.includes("\nsummary,chats,2\n"), csv.slice(0, 200));
    });

    await check("an agent who never served it does not find it", async () => {
      const agent = await newPage("history16 agent", { width: 390, height: 844 });
      await signIn(agent, AGENT);
      assert(await agent.locator("#nav-reports").isHidden(), "an agent has the Reports tab");
      await agent.click("#nav-history");
      await agent.fill("#hs-q", "umbrella");
      await agent.press("#hs-q", "Enter");
      await agent.locator("#hs-found", { hasText: "No conversation matches." }).waitFor();
      const wide = await agent.evaluate(() => document.documentElement.scrollWidth);
      assert(wide <= 390, `the page scrolls sideways at 390 px: ${wide}`);
      await shot(agent, "history16-agent-390.png");
      await agent.context().close();
    });
  } finally {
    if (admin) await admin.context().close().catch(() => {});
    await stopServer(server);
  }
}

// ---- alone: node history16.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("history16", history16Checks);
