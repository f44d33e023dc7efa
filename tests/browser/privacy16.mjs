// Browser checks of issue 16's data protection, against a server of its own: an admin sets how
// long ended chats are kept in the conversation settings and finds that change in the Audit log
// page (old → new); a visitor writes from the chat page; the admin finds the chat on the History
// page, exports the visitor's data (a JSON download with the message), deletes the visitor from
// the confirm dialog, and the chat is gone from the list, the visitor's page is cut off, and the
// deletion is in the audit log. An agent has no Audit log tab and no delete button.
//
//   node privacy16.mjs --bin path/to/frontdesk        (alone; journey.mjs may call it too)
import fs from "node:fs";
import { stopServer, isMain, runAlone, ownServer, chained } from "./suite.mjs";

const ADMIN = { email: "pia@example.com", password: "pia-pass-1234", name: "Pia Admin", role: "admin" };
const AGENT = { email: "olaf@example.com", password: "olaf-pass-123", name: "Olaf Agent", role: "agent" };
const QUESTION = "Please forget me: my parcel number is QX-4417";

export async function privacy16Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  const check = chained(runCheck, "privacy16");
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const { BASE, server } = await ownServer(BIN, "privacy16", [ADMIN, AGENT]);
  const signIn = async (page, u) => {
    await page.goto(`${BASE}/console/`);
    await page.fill("#login-email", u.email);
    await page.fill("#login-password", u.password);
    await page.click("#login-submit");
    await page.locator("#conn.conn-ok").waitFor();
  };
  let admin = null;
  let visitor = null;
  try {
    await check("the admin keeps ended chats 30 days and sees the change in the Audit log", async () => {
      admin = await newPage("privacy16 admin", { width: 1280, height: 860 });
      await signIn(admin, ADMIN);
      await admin.click("#nav-team");
      await admin.locator("#conv-settings-form[data-loaded='true']").waitFor();
      assert(await admin.inputValue("#cs-retention") === "", "retention is not off at first");
      await admin.locator("#cs-retention-help", { hasText: "deleted once a day" }).waitFor();
      await admin.fill("#cs-retention", "30");
      await admin.click("#cs-save");
      await admin.locator("#cs-status", { hasText: "saved" }).waitFor();
      assert(await admin.isVisible("#nav-audit"), "no Audit log tab for the admin");
      await admin.click("#nav-audit");
      await admin.locator("#audit-view").waitFor({ state: "visible" });
      assert(await admin.getAttribute("#nav-audit", "aria-current") === "page", "Audit log is not the current tab");
      const row = admin.locator("#audit-rows tr[data-action='settings.changed']").first();
      await row.waitFor();
      const text = await row.textContent();
      assert(text.includes("Pia Admin") && text.includes("retention_days: — → 30"), text);
      await shot(admin, "privacy16-audit.png");
    });

    await check("History: export the visitor's data, then delete them; the chat leaves the list", async () => {
      visitor = await newPage("privacy16 visitor", { width: 390, height: 720 });
      await visitor.goto(`${BASE}/chat/`);
      await visitor.locator("#input").fill(QUESTION);
      await visitor.locator("#input").press("Enter");
      await visitor.locator(".msg-me .bubble", { hasText: QUESTION }).waitFor();
      await admin.click("#nav-history");
      await admin.locator("#history-view").waitFor({ state: "visible" });
      await admin.fill("#hs-q", "QX-4417");
      await admin.press("#hs-q", "Enter");
      const item = admin.locator("#hs-list .item", { hasText: "QX-4417" });
      await item.waitFor();
      await item.click();
      await admin.locator("#hs-thread .msg-visitor", { hasText: QUESTION }).waitFor();
      // Export: one JSON file named after the visitor, with the message.
      const [download] = await Promise.all([admin.waitForEvent("download"), admin.click("#hs-export")]);
      assert(/^visitor-[0-9a-f]{32}\.json$/.test(download.suggestedFilename()), download.suggestedFilename());
      const doc = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
      assert(JSON.stringify(doc.chats).includes("QX-4417"), "the export lacks the message");
      await admin.locator("#hs-privacy-status", { hasText: "downloaded" }).waitFor();
      // Delete: a dialog names what goes; Cancel keeps everything, the button deletes.
      await admin.click("#hs-delete");
      const dialog = admin.locator("#forget-dialog");
      await dialog.waitFor();
      const said = await dialog.textContent();
      assert(said.includes("cannot be undone") && said.includes("files"), said);
      await shot(admin, "privacy16-confirm.png");
      await admin.click("#forget-cancel");
      await dialog.waitFor({ state: "detached" });
      assert(await admin.locator("#hs-list .item", { hasText: "QX-4417" }).count() === 1, "cancel deleted it");
      await admin.click("#hs-delete");
      await admin.click("#forget-confirm");
      await admin.locator("#hs-deleted", { hasText: "were deleted" }).waitFor();
      await admin.locator("#hs-list .item", { hasText: "QX-4417" }).waitFor({ state: "detached" });
      // Searching again finds nothing.
      await admin.press("#hs-q", "Enter");
      await admin.locator("#hs-found", { hasText: "No conversation matches." }).waitFor();
      await admin.click("#nav-audit");
      await admin.locator("#audit-rows tr[data-action='visitor.deleted']").waitFor();
      await admin.locator("#audit-rows tr[data-action='visitor.exported']").waitFor();
    });

    await check("an agent has no Audit log tab and no delete button", async () => {
      const agent = await newPage("privacy16 agent", { width: 390, height: 844 });
      await signIn(agent, AGENT);
      assert(!(await agent.isVisible("#nav-audit")), "the agent sees the Audit log tab");
      await agent.goto(`${BASE}/console/#/audit`);
      await agent.locator("#inbox-view").waitFor({ state: "visible" });
      assert(!(await agent.isVisible("#audit-view")), "the agent reaches the Audit log");
      await agent.context().close();
    });
  } finally {
    if (visitor) await visitor.context().close().catch(() => {});
    await stopServer(server);
  }
}

if (isMain(import.meta.url)) await runAlone("privacy16", privacy16Checks);
