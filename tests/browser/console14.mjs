// Browser checks of issue 14 on the staff console, against a server of their own (own data dir,
// port and accounts). The visitor is a raw /ws client (single-use ticket, JSON frames) running
// in a page of its own, so what it receives is exactly what the server sent it:
//
//   - a canned reply created on the admin page; `/ship` + Enter in the composer expands it;
//   - the visitor panel: the current page, and its change when the visitor sends `visitor_page`;
//     the browser in words from the user agent;
//   - a chat chosen with the keyboard puts the focus on Claim;
//   - an image from the console reaches the visitor (a type 2 `staff_send` whose url downloads
//     the same bytes with the visitor's token), and the visitor's image shows as a thumbnail;
//   - "Seen" under the agent's reply once the visitor sends `message_read`;
//   - an admin watches the chat, adds agent B; agent A's internal note shows for B (and the
//     watcher) in the note style, and the visitor received nothing of it;
//   - `chat_rated` after the visitor left shows on the chat;
//   - the console at 390 px has no sideways scroll; screenshots at 390×844 and 1280×800.
//
//   node console14.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import fs from "node:fs";
import { WAIT, sleep, stopServer, png, isMain, runAlone, ownServer } from "./suite.mjs";


const ADMIN = { email: "carla@example.com", password: "carla-pass-123", name: "Carla Chief", role: "admin" };
const AGENT_A = { email: "otto@example.com", password: "otto-pass-123", name: "Otto Agent", role: "agent" };
const AGENT_B = { email: "pia@example.com", password: "pia-pass-123", name: "Pia Agent", role: "agent" };

// A small valid PNG (8×8, a red square on white), built here so that its bytes are known.
const PNG = png(8, 8, (x, y) => (x > 1 && x < 6 && y > 1 && y < 6 ? [220, 30, 30] : [255, 255, 255]));
const UA_WINDOWS_CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const NOTE = "Internal: VIP customer, refund approved by Carla";
const CANNED = { shortcut: "shipping", text: "We ship worldwide within 3 working days." };

/**
 * @param {object} ctx
 * @param {Function} ctx.check    check(name, fn, {independent})
 * @param {Function} ctx.assert
 * @param {Function} ctx.newPage  newPage(label, viewport, contextOptions) → a page in a new context
 * @param {string}   ctx.BIN      the server binary (these checks start their own server)
 * @param {Function} [ctx.shot]   shot(page, file)
 */
export async function console14Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  let anyFailed = false; // the data dir and log stay for a look only when something failed
  const check = (name, fn) => runCheck(`console14: ${name}`, async () => {
    try { await fn(); } catch (e) { anyFailed = true; throw e; }
  }, { independent: true });
  if (!BIN) {
    await check("needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); });
    return;
  }
  const { DATA, BASE, log, server } = await ownServer(BIN, "console14", [ADMIN, AGENT_A, AGENT_B]);

  const login = async (page, who) => {
    await page.goto(`${BASE}/console/`);
    await page.fill("#login-email", who.email);
    await page.fill("#login-password", who.password);
    await page.click("#login-submit");
    await page.locator("#conn.conn-ok").waitFor();
  };

  /**
   * A visitor speaking raw /ws from a page of its own: every frame it receives is kept
   * (`frames()`), `send` waits for the ack, `waitFor` polls for an event (bounded).
   */
  const visitorClient = async (name) => {
    const res = await fetch(`${BASE}/api/v1/visitors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
    assert(res.status === 201, `POST /api/v1/visitors: ${res.status}`);
    const { access_token: token, visitor } = await res.json();
    const t = await fetch(`${BASE}/api/v1/ws-ticket`, { method: "POST", headers: { Authorization: token } });
    assert(t.ok, `POST /api/v1/ws-ticket: ${t.status}`);
    const { ticket } = await t.json();
    const page = await newPage(`ws-visitor ${name}`);
    await page.evaluate(async ({ url }) => {
      window.__frames = [];
      window.__id = 1;
      await new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        window.__ws = ws;
        ws.onmessage = (e) => { try { window.__frames.push(JSON.parse(e.data)); } catch { window.__frames.push({ raw: e.data }); } };
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("the visitor's WebSocket failed"));
        setTimeout(() => reject(new Error("the visitor's WebSocket did not open")), 10000);
      });
    }, { url: `${BASE.replace(/^http/, "ws")}/ws?ticket=${encodeURIComponent(ticket)}` });
    const frames = () => page.evaluate(() => window.__frames);
    const send = (event, data) => page.evaluate(({ event, data }) => new Promise((resolve) => {
      const id = window.__id++;
      window.__ws.send(JSON.stringify({ event, data, id }));
      const t0 = Date.now();
      const poll = () => {
        const a = window.__frames.find((f) => f.ack === id);
        if (a) resolve(a);
        else if (Date.now() - t0 > 10000) resolve({ ack: id, result: false, error_message: "no ack within 10 s" });
        else setTimeout(poll, 25);
      };
      poll();
    }), { event, data });
    const waitFor = async (event, pred = () => true, ms = WAIT) => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        const f = (await frames()).find((x) => x.event === event && pred(x.data || {}));
        if (f) return f.data;
        await sleep(100);
      }
      throw new Error(`the visitor got no ${event} within ${ms} ms`);
    };
    const ok = async (event, data) => {
      const a = await send(event, data);
      assert(a.result === true, `${event} refused: ${a.error_message} (${a.code || "no code"})`);
      return a;
    };
    return { token, visitor, id: visitor.id, page, frames, send, ok, waitFor };
  };

  let admin; let a; let b; let v;
  let chatId = null;
  let claimed = false; // agent A serves the visitor's chat (the later checks need it)
  let replySeq = null;
  try {
    admin = await newPage("console14 admin", { width: 1280, height: 800 });
    a = await newPage("console14 agent A", { width: 1280, height: 800 });
    b = await newPage("console14 agent B", { width: 1280, height: 800 });

    await check("an admin creates a canned reply on the admin page", async () => {
      await login(admin, ADMIN);
      await login(a, AGENT_A);
      await login(b, AGENT_B);
      await admin.goto(`${BASE}/console/#/team`);
      try {
        await cannedOnAdminPage(admin);
      } finally {
        await admin.goto(`${BASE}/console/#/inbox`);
        await admin.locator("#inbox-view").waitFor();
      }
    });
    async function cannedOnAdminPage(admin) {
      await admin.locator("#canned-form").waitFor();
      // A bad shortcut: the server's sentence next to the field, nothing saved.
      await admin.fill("#cr-shortcut", "no spaces allowed");
      await admin.fill("#cr-text", CANNED.text);
      await admin.click("#cr-save");
      await admin.locator("#cr-shortcut-error:not(:empty)").waitFor();
      await admin.fill("#cr-shortcut", CANNED.shortcut);
      await admin.click("#cr-save");
      await admin.locator(`#canned-list [data-shortcut="${CANNED.shortcut}"]`, { hasText: CANNED.text }).waitFor();
      assert((await admin.locator("#cr-shortcut-error").textContent()) === "", "the error stayed after the save");
    }

    await check("conversation settings: the server's sentence for a refused value, then a valid save", async () => {
      await admin.goto(`${BASE}/console/#/team`);
      try {
        await admin.locator('#conv-settings-form[data-loaded="true"]').waitFor();
        await admin.fill("#cs-warning", "600");
        await admin.fill("#cs-close", "300");
        await admin.click("#cs-save");
        const err = admin.locator("#cs-error");
        await err.waitFor();
        assert(/inactivity/.test(await err.textContent()), `the refusal says: ${await err.textContent()}`);
        await admin.fill("#cs-close", "3600");
        await admin.check("#cs-prechat");
        await admin.selectOption("#cs-email", "required");
        await admin.click("#cs-save");
        await admin.locator("#cs-status", { hasText: "saved" }).waitFor();
        const s = await admin.evaluate(async () => (await fetch("/api/v1/settings", { headers: { Authorization: localStorage.getItem("frontdesk.staff_token") } })).json());
        assert(s.inactivity_warning_secs === 600 && s.inactivity_close_secs === 3600 && s.prechat.enabled && s.prechat.email === "required",
          `stored: ${JSON.stringify({ w: s.inactivity_warning_secs, c: s.inactivity_close_secs, p: s.prechat })}`);
        // Back to what the later checks expect (no pre-chat form, no inactivity close).
        await admin.fill("#cs-warning", "0");
        await admin.fill("#cs-close", "0");
        await admin.uncheck("#cs-prechat");
        await admin.click("#cs-save");
        await admin.locator("#cs-status", { hasText: "saved" }).waitFor();
        await admin.waitForFunction(async () => !(await (await fetch("/api/v1/settings", { headers: { Authorization: localStorage.getItem("frontdesk.staff_token") } })).json()).prechat.enabled);
      } finally {
        await admin.goto(`${BASE}/console/#/inbox`);
      }
    });

    await check("a waiting chat chosen with the keyboard puts the focus on Claim", async () => {
      v = await visitorClient("Vera Visitor");
      await v.ok("visitor_page", { url: "https://shop.example/ceramics", title: "Handmade ceramics", referrer: "https://search.example/?q=mugs",
        language: "de-DE", time_zone: "Europe/Berlin", user_agent: UA_WINDOWS_CHROME });
      await v.ok("visitor_msg", { content: "Hello, where is my order 1042?", timestamp: Date.now() });
      const item = a.locator(`#list-queue [data-room="${v.id}"]`);
      await item.waitFor();
      // Chosen with the keyboard: the focus goes to the chat's main action (Claim).
      await item.focus();
      await a.keyboard.press("Enter");
      await a.locator("#claim-bar").waitFor();
      const focused = await a.evaluate(() => document.activeElement && document.activeElement.id);
      await a.click("#claim-btn");
      await a.locator("#composer").waitFor();
      claimed = true;
      assert(focused === "claim-btn", `after choosing a waiting chat with the keyboard the focus is on #${focused}, not on Claim`);
    });

    await check("the visitor panel shows the current page, and it changes when the visitor moves on", async () => {
      assert(claimed, "needs the claimed chat of the step before");
      await a.locator("#visitor-current-page", { hasText: "Handmade ceramics" }).waitFor();
      const facts = await a.locator("#visitor-facts").textContent();
      assert(facts.includes("Chrome 131 on Windows"), `no short browser name in the visitor panel: ${facts}`);
      assert(facts.includes("search.example"), `no referrer in the visitor panel: ${facts}`);
      await v.ok("visitor_page", { url: "https://shop.example/checkout", title: "Checkout", referrer: "", language: "de-DE",
        time_zone: "Europe/Berlin", user_agent: UA_WINDOWS_CHROME });
      await a.locator("#visitor-current-page", { hasText: "Checkout" }).waitFor();
      await a.locator("#visitor-pages", { hasText: "Handmade ceramics" }).waitFor();
      const rel = await a.locator("#visitor-current-page a").getAttribute("rel");
      assert(/noopener/.test(rel || "") && /noreferrer/.test(rel || ""), `the page link's rel is ${rel}`);
    });

    await check("/ship + Enter expands the canned reply in the composer", async () => {
      assert(claimed, "needs the claimed chat of the step before");
      const input = a.locator("#composer-input");
      await input.click();
      await input.pressSequentially("/ship");
      await a.locator("#canned-picker [role=option]", { hasText: "/shipping" }).waitFor();
      await input.press("Enter");
      const value = await input.inputValue();
      assert(value === CANNED.text, `the composer holds ${JSON.stringify(value)}`);
      // Enter expanded, it did not send: the visitor got no "/ship".
      assert(!(await v.frames()).some((f) => f.event === "staff_send" && JSON.stringify(f.data).includes("/ship")), "\"/ship\" was sent");
      await input.fill("");
    });

    await check("an image from the console reaches the visitor, byte for byte", async () => {
      assert(claimed, "needs the claimed chat");
      await a.setInputFiles("#composer-file", { name: "label.png", mimeType: "image/png", buffer: PNG });
      const d = await v.waitFor("staff_send", (x) => x.content && x.content.type_id === 2);
      const att = d.content.content && d.content.content.attachment;
      assert(att && typeof att.url === "string", `no attachment in ${JSON.stringify(d.content)}`);
      chatId = d.content.chat_id;
      const res = await fetch(`${BASE}${att.url}`, { headers: { Authorization: v.token } });
      assert(res.ok, `the visitor's download: ${res.status}`);
      const got = Buffer.from(await res.arrayBuffer());
      assert(got.equals(PNG), `the visitor downloaded ${got.length} bytes, not the ${PNG.length} sent`);
      // The sender's own thread shows it as a thumbnail too.
      await a.waitForFunction(() => [...document.querySelectorAll("#thread .attachment-thumb img")].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: WAIT });
    });

    await check("the visitor's image shows as a thumbnail in the console", async () => {
      assert(chatId, "needs the chat id from the step before");
      const form = new FormData();
      form.append("file", new Blob([PNG], { type: "image/png" }), "photo-of-the-parcel.png");
      const res = await fetch(`${BASE}/api/v1/chats/${chatId}/attachments`, { method: "POST", headers: { Authorization: v.token }, body: form });
      assert(res.status === 201, `the visitor's upload: ${res.status} ${await res.text()}`);
      const img = a.locator('#thread .msg-visitor .attachment-thumb img[alt="photo-of-the-parcel.png"]');
      await img.waitFor();
      await a.waitForFunction(() => {
        const i = document.querySelector('#thread .msg-visitor .attachment-thumb img[alt="photo-of-the-parcel.png"]');
        return i && i.complete && i.naturalWidth > 0 && i.src.startsWith("blob:");
      }, null, { timeout: WAIT });
      // A click enlarges it.
      await a.locator("#thread .msg-visitor .attachment-thumb").click();
      await a.locator("#lightbox[open] img").waitFor();
      await a.keyboard.press("Escape");
      await a.locator("#lightbox[open]").waitFor({ state: "detached" }).catch(() => {});
    });

    await check("\"Seen\" appears under the reply once the visitor sends message_read", async () => {
      assert(claimed, "needs the claimed chat");
      const input = a.locator("#composer-input");
      await input.fill("Let me check order 1042 for you.");
      await input.press("Enter");
      const d = await v.waitFor("staff_send", (x) => x.content && x.content.content && x.content.content.content === "Let me check order 1042 for you.");
      replySeq = d.content.sequence_num;
      assert(typeof replySeq === "number", "the reply has no sequence_num");
      await sleep(300);
      assert(await a.locator("#thread .msg-seen").count() === 0, "\"Seen\" shows before the visitor read anything");
      await v.ok("message_read", { sequence_num: replySeq });
      const row = a.locator(`#thread .msg[data-seq="${replySeq}"] .msg-seen`);
      await row.waitFor();
      assert((await row.textContent()).includes("Seen"), "the receipt does not say Seen");
    });

    await check("a paste or a reply over the 16 KiB content limit is refused with a visible message, not cut", async () => {
      assert(claimed, "needs the claimed chat");
      const big = "Long log line, pasted by mistake. ".repeat(600); // ~20 KB
      const input = a.locator("#composer-input");
      await input.fill("");
      const pasted = await input.evaluate((node, text) => {
        const dt = new DataTransfer();
        dt.setData("text/plain", text);
        const ev = new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true });
        node.dispatchEvent(ev);
        return ev.defaultPrevented;
      }, big);
      assert(pasted, "the over-long paste was not refused");
      await a.locator("#composer-error", { hasText: "too long" }).waitFor();
      // Typed (or dropped) text over the limit: Enter keeps it and says why.
      await input.fill(big);
      assert((await input.inputValue()).length === big.length, "the reply box cut the text");
      await input.press("Enter");
      await a.locator("#composer-error", { hasText: "too long" }).waitFor();
      assert((await input.inputValue()).length === big.length, "the text went away although it was not sent");
      await sleep(300);
      assert(!(await v.frames()).some((f) => f.event === "staff_send" && JSON.stringify(f.data).includes("pasted by mistake")), "the over-long reply was sent");
      await input.fill("");
    });

    await check("a note by agent A shows for agent B (and the watching admin) in the note style; the visitor gets nothing", async () => {
      assert(claimed, "needs the claimed chat");
      // The admin watches the chat from Team chats, then adds agent B to it.
      await admin.locator(`#list-live [data-room="${v.id}"]`).click();
      await admin.locator("#conv-watch").click();
      await admin.locator("#conv-unwatch").waitFor();
      await admin.locator("#conv-banner", { hasText: "watching" }).waitFor();
      await admin.selectOption("#add-staff-select", { label: AGENT_B.name });
      await admin.locator("#add-staff-form button[type=submit]").click();
      const itemB = b.locator(`#list-mine [data-room="${v.id}"]`);
      await itemB.waitFor();
      await itemB.click();
      await b.locator("#thread .msg", { hasText: "Let me check order 1042" }).waitFor();
      // Agent A writes the note in the Note mode.
      await a.click("#composer-note");
      assert(await a.locator("#composer.composer-note").count() === 1, "the composer does not look different in the Note mode");
      assert((await a.locator("#composer-hint").textContent()).includes("won't see"), "no \"the visitor won't see this\" hint");
      await a.fill("#composer-input", NOTE);
      await a.press("#composer-input", "Enter");
      for (const [who, page] of [["agent B", b], ["the watching admin", admin]]) {
        const note = page.locator("#thread .msg-note", { hasText: NOTE });
        await note.waitFor().catch(() => { throw new Error(`${who} does not see the note`); });
        assert((await note.locator(".msg-who").textContent()).includes(AGENT_A.name), `${who} does not see who wrote the note`);
        const bg = await note.locator(".bubble").evaluate((n) => getComputedStyle(n).backgroundColor);
        const reply = await page.locator("#thread .msg-staff:not(.msg-note) .bubble").first().evaluate((n) => getComputedStyle(n).backgroundColor);
        assert(bg !== reply, `${who}: the note looks like a reply (${bg})`);
      }
      await a.locator("#thread .msg-note", { hasText: NOTE }).waitFor();
      await sleep(800);
      const leaked = (await v.frames()).filter((f) => JSON.stringify(f).includes(NOTE) || f.event === "staff_note_send");
      assert(leaked.length === 0, `the visitor received the note: ${JSON.stringify(leaked[0])}`);
      await a.click("#composer-note");
    });

    await check("a tag added in the details shows in every console's list; the watcher stops watching", async () => {
      assert(claimed, "needs the claimed chat");
      await a.fill("#tag-input", "refund");
      await a.press("#tag-input", "Enter");
      await a.locator("#tag-list .chip", { hasText: "refund" }).waitFor();
      for (const [who, page] of [["agent B", b], ["the admin", admin]]) {
        await page.locator(`[data-room="${v.id}"] .item-tags`, { hasText: "refund" }).first().waitFor()
          .catch(() => { throw new Error(`${who}'s list does not show the tag`); });
      }
      // × removes it, everywhere.
      await a.locator("#tag-list .chip", { hasText: "refund" }).getByRole("button").click();
      await b.locator(`[data-room="${v.id}"] .item-tags`).first().waitFor({ state: "detached" });
      assert(!(await v.frames()).some((f) => f.event === "chat_tags_changed"), "the visitor was told about the tags");
      await admin.click("#conv-unwatch");
      await admin.locator("#conv-watch").waitFor();
      assert(!(await admin.locator("#conv-banner").textContent()).includes("You are watching this chat. The visitor"), "still says watching");
    });

    await check("the console at 390 px has no sideways scroll; screenshots at 390×844 and 1280×800", async () => {
      assert(claimed, "needs the claimed chat");
      await shot(a, "console14-desktop-1280.png");
      await a.setViewportSize({ width: 390, height: 844 });
      try {
        await sleep(200);
        const measure = async (what) => {
          const w = await a.evaluate(() => document.documentElement.scrollWidth);
          assert(w <= 390, `the ${what} at 390 px is ${w} px wide (sideways scroll)`);
        };
        await measure("conversation");
        await shot(a, "console14-phone-390-chat.png");
        await a.locator("#details-toggle").click();
        await a.locator("#details #visitor-card").waitFor();
        await measure("details drawer");
        await shot(a, "console14-phone-390-details.png");
        await a.keyboard.press("Escape");
        await a.locator("#pane-back").click();
        await a.locator(`#list-mine [data-room="${v.id}"]`).waitFor();
        await measure("chat lists");
        await shot(a, "console14-phone-390-lists.png");
      } finally {
        await a.setViewportSize({ width: 1280, height: 800 });
      }
    });

    await check("chat_rated shows on the chat the visitor left", async () => {
      assert(claimed, "needs the claimed chat");
      await v.ok("visitor_leave_room", null);
      await a.locator('#conv[data-status="ended"]').waitFor();
      await v.ok("rate_chat", { rating: "good", comment: "Quick and kind, thanks!" });
      const line = a.locator("#conv-rating");
      await line.waitFor();
      const text = await line.textContent();
      assert(text.includes("👍") && text.includes("Quick and kind, thanks!"), `the rating line says: ${text}`);
      await shot(a, "console14-rated-1280.png");
    });
  } finally {
    for (const p of [admin, a, b, v && v.page]) if (p) await p.context().close().catch(() => {});
    await stopServer(server);
    if (anyFailed) console.log(`     (console14 server log: ${log})`);
    else fs.rmSync(DATA, { recursive: true, force: true });
  }
}

// ---- alone: node console14.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("console14", console14Checks);
