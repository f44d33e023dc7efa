// Browser checks of issue 14 on the visitor's side (the widget and its chat page), against a
// server of their own (own data dir, port, accounts and settings). The staff side is a raw /ws
// client (a page on the server's origin running a plain WebSocket with the agent's token), so
// these checks do not depend on the console:
//
//   - message text: links (https and www.) are <a rel="noopener noreferrer" target="_blank">;
//     the attach button is disabled with a hint before the first message;
//   - the host page's address reaches staff (visitor_page_viewed);
//   - the visitor sends an image (the file input) → its thumbnail in the widget (a blob URL that
//     loaded), and staff get a type 2 message; a staff image uploaded over REST shows too;
//   - "Seen" after the staff side's message_read; the widget's own message_read reaches staff;
//   - a paste over the content limit is refused with a visible message;
//   - Tab stays inside the open panel; Escape closes it and gives focus back to the launcher;
//   - the rating at the end: staff leaves → 👍 + comment → the thank-you, and a staff client
//     hears chat_rated;
//   - the inactivity warning and close (short settings), then the rating offered;
//   - German: data-lang="de" and a de-DE browser at 390×844;
//   - the server's pre-chat form (email required) blocks the first message until it is given.
//
//   node widget14.mjs --bin path/to/frontdesk        (alone; journey.mjs also calls it)
import http from "node:http";
import fs from "node:fs";
import { WAIT, sleep, stopServer, png, isMain, runAlone, ownServer } from "./suite.mjs";


const ADMIN = { email: "wanda@example.com", password: "wanda-pass-123", name: "Wanda Admin", role: "admin" };
const AGENT = { email: "wim@example.com", password: "wim-pass-1234", name: "Wim Agent", role: "agent" };

/**
 * @param {object} ctx
 * @param {Function} ctx.check    check(name, fn, {independent})
 * @param {Function} ctx.assert
 * @param {Function} ctx.newPage  newPage(label, viewport, contextOptions) → a page in a new context
 * @param {string}   ctx.BIN      the server binary (these checks start their own server)
 * @param {Function} [ctx.shot]   shot(page, file)
 */
export async function widget14Checks({ check: runCheck, assert, newPage, BIN, shot = async () => {} }) {
  // The steps of one visitor's chat depend on each other: after a failed step the rest of that
  // chain is skipped (independent checks still run), whatever happened before this suite.
  let anyFailed = false;
  let chainBroken = false;
  const check = (name, fn, { independent = false } = {}) => runCheck(name, async () => {
    // WIDGET14_ALL=1 runs every step anyway (to see each check fail on its own without its feature).
    if (chainBroken && !independent && !process.env.WIDGET14_ALL) throw new Error("skipped: an earlier widget14 step failed");
    try { await fn(); } catch (e) { anyFailed = true; if (!independent) chainBroken = true; throw e; }
  }, { independent: true });
  if (!BIN) {
    await check("widget14: needs --bin (it starts a server of its own)", async () => { throw new Error("no --bin given"); }, { independent: true });
    return;
  }
  const { DATA, BASE, log, server, up } = await ownServer(BIN, "widget14", [ADMIN, AGENT]);

  const TITLE = "Atlas help";
  const hostPage = (lang) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Atlas Maps — Shop</title></head>
<body style="font-family:Georgia,serif;margin:0;background:#f4f1ea"><header style="background:#1f3b2d;color:#fff;padding:16px 20px;font-size:20px">Atlas Maps</header>
<main style="padding:20px"><h1>Wall maps</h1><p>Printed on cotton paper.</p><a id="host-link" href="#">A link on the shop</a></main>
<script src="${BASE}/widget.js" async ${lang ? "" : `data-title="${TITLE}" `}data-color="#1f6f4a" ${lang ? `data-lang="${lang}"` : ""}></script></body></html>`;
  const host = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    if (req.url === "/staff") { res.end("<!doctype html><title>staff /ws client</title>"); return; }
    res.end(hostPage(req.url.includes("lang=de") ? "de" : ""));
  });
  await new Promise((r) => host.listen(0, "127.0.0.1", r));
  const HOST = `http://127.0.0.1:${host.address().port}/`;

  const frame = (page, title = TITLE) => page.frameLocator(`iframe[title='${title}']`);
  const launcher = (page) => page.locator("[data-frontdesk-widget] button.l");
  const api = async (p, { method = "GET", body, token } = {}) => {
    const res = await fetch(`${BASE}${p}`, { method, headers: { ...(token ? { Authorization: token } : {}), ...(body ? { "Content-Type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { status: res.status, data };
  };
  const tokenOf = async (who) => {
    const r = await api("/api/v1/auth/login", { method: "POST", body: { email: who.email, password: who.password } });
    assert(r.status === 200 && r.data && r.data.access_token, `login ${who.email}: ${JSON.stringify(r)}`);
    return r.data.access_token;
  };

  /** A staff member on /ws: a page of the server's origin with a plain WebSocket; events kept in order. */
  const staffClient = async (label, token) => {
    const page = await newPage(label, { width: 800, height: 600 });
    // A blank page of the test's own host (the server's pages carry a CSP that forbids this).
    await page.goto(`${HOST}staff`);
    await page.evaluate(async ([tok, base]) => {
      window.evs = []; window.acks = {};
      let next = 0;
      const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(tok)}`);
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.ack != null) window.acks[m.ack] = m; else if (m.event) window.evs.push(m);
      };
      await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error("ws error")); setTimeout(() => rej(new Error("ws timeout")), 10000); });
      window.emit = (event, data) => new Promise((res) => {
        const id = ++next;
        ws.send(JSON.stringify({ event, data, id }));
        const t0 = Date.now();
        const iv = setInterval(() => {
          if (window.acks[id]) { clearInterval(iv); res(window.acks[id]); } else if (Date.now() - t0 > 10000) { clearInterval(iv); res({ result: false, error_message: "no ack in 10 s" }); }
        }, 20);
      });
    }, [token, BASE]);
    return {
      page,
      emit: (event, data) => page.evaluate(([e, d]) => window.emit(e, d), [event, data]),
      /** The first event `name` (after index `from`) whose data passes `pred` (a function source over `d`). */
      waitFor: async (name, pred = "true", from = 0) => {
        const h = await page.waitForFunction(([n, p, f]) => {
          const ok = new Function("d", `return (${p});`);
          return window.evs.slice(f).find((m) => m.event === n && ok(m.data)) || null;
        }, [name, pred, from], { timeout: WAIT, polling: 50 });
        return (await h.jsonValue()).data;
      },
      count: () => page.evaluate(() => window.evs.length),
    };
  };

  /** A visitor's page on the shop with the panel open. */
  const openWidget = async (label, viewport, extra = {}, url = HOST, title = TITLE) => {
    const page = await newPage(label, viewport, extra);
    await page.goto(url);
    await launcher(page).click();
    await frame(page, title).locator("#input").waitFor();
    return page;
  };

  let staff = null;
  let agentToken = null;
  let adminToken = null;
  let v = null;       // the visitor's page (English, desktop)
  let room = null;    // {vid, chatId}
  const PNG_ME = png(64, 48, [30, 120, 200]);
  const PNG_STAFF = png(80, 60, [220, 90, 40]);
  const LINKS = "Our order page is https://example.com/orders?id=7 or www.example.org, thanks!";

  try {
    await check("widget14: before the first message the attach button is disabled with a hint; links become safe <a> (https and www.)", async () => {
      assert(up, `the server did not start; log:\n${fs.readFileSync(log, "utf8")}`);
      agentToken = await tokenOf(AGENT);
      adminToken = await tokenOf(ADMIN);
      staff = await staffClient("staff ws", agentToken);
      await staff.waitFor("staff_init");
      v = await openWidget("visitor", { width: 1280, height: 800 });
      const f = frame(v);
      assert((await f.locator("#attach").getAttribute("aria-disabled")) === "true", "the attach button is enabled before any chat exists");
      assert((await f.locator("#attach-hint").textContent()).includes("once your first message is sent"), "no hint on the disabled attach button");
      await f.locator("#input").fill(LINKS);
      await f.locator("#input").press("Enter");
      const first = await staff.waitFor("append_unclaimed_chats");
      room = { vid: first.visitor.id, chatId: first.visitor.chat_id };
      assert(room.vid && room.chatId, `no room: ${JSON.stringify(first.visitor)}`);
      const links = f.locator(".msg-me .bubble a");
      await links.nth(1).waitFor();
      const got = await links.evaluateAll((as) => as.map((a) => [a.getAttribute("href"), a.getAttribute("rel"), a.getAttribute("target"), a.textContent]));
      assert(got.length === 2, `links: ${JSON.stringify(got)}`);
      assert(got[0][0] === "https://example.com/orders?id=7" && got[0][1] === "noopener noreferrer" && got[0][2] === "_blank", `https link: ${JSON.stringify(got[0])}`);
      assert(got[1][0] === "https://www.example.org" && got[1][1] === "noopener noreferrer" && got[1][3] === "www.example.org", `www link: ${JSON.stringify(got[1])}`);
      const join = await staff.emit("staff_join", { visitor: room.vid });
      assert(join.result === true, `staff_join: ${JSON.stringify(join)}`);
      await f.locator(".note", { hasText: "joined the chat" }).waitFor();
      await f.locator("#attach[aria-disabled=false]").waitFor();
    });

    await check("widget14: a paste over the content limit (16 KiB) is refused with a visible message, not cut", async () => {
      const f = frame(v);
      await f.locator("#input").fill("Before the paste. ");
      await f.locator("#input").evaluate((ta) => {
        const dt = new DataTransfer();
        dt.setData("text/plain", "x".repeat(20000));
        const ev = new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true });
        const accepted = ta.dispatchEvent(ev);
        // a synthetic paste inserts nothing by itself: do what the browser would if it was allowed
        if (accepted) ta.value += "x".repeat(20000);
      });
      await f.locator("#composer-error", { hasText: "too long" }).waitFor();
      assert((await f.locator("#input").inputValue()) === "Before the paste. ", "the textarea changed");
      await f.locator("#input").fill("");
    });

    await check("widget14: Tab and Shift+Tab stay inside the open panel; Escape closes it and focuses the launcher", async () => {
      const f = frame(v);
      await f.locator("#input").focus();
      const inside = () => v.evaluate(() => {
        const h = document.activeElement;
        return !!(h && h.matches("[data-frontdesk-widget]") && h.shadowRoot.activeElement && h.shadowRoot.activeElement.tagName === "IFRAME");
      });
      for (let i = 0; i < 14; i++) {
        await v.keyboard.press("Tab");
        assert(await inside(), `Tab ${i + 1} left the panel`);
      }
      for (let i = 0; i < 14; i++) {
        await v.keyboard.press("Shift+Tab");
        assert(await inside(), `Shift+Tab ${i + 1} left the panel`);
      }
      await f.locator("#attach").focus();
      await v.keyboard.press("Escape");
      await v.locator("[data-frontdesk-widget] button.l[aria-expanded=false]").waitFor();
      const focused = await launcher(v).evaluate((b) => b.getRootNode().activeElement === b);
      assert(focused, "the launcher does not have the focus after Escape");
      await launcher(v).click();
      await f.locator("#input").waitFor({ state: "visible" });
    });

    await check("widget14: the host page's address, title and the browser's context reach staff (visitor_page_viewed)", async () => {
      const seen = await staff.waitFor("visitor_page_viewed", `d.visitor === ${JSON.stringify(room.vid)}`);
      assert(seen.page && seen.page.url === HOST && seen.page.title === "Atlas Maps — Shop", `page: ${JSON.stringify(seen.page)}`);
      assert(seen.context && seen.context.time_zone && seen.context.language && seen.context.user_agent, `context: ${JSON.stringify(seen.context)}`);
      // an SPA navigation on the shop (history.pushState) is a new page view, with the last page as referrer
      const from = await staff.count();
      await v.evaluate(() => { history.pushState({}, "", "/maps/world"); document.title = "World map — Atlas"; });
      const spa = await staff.waitFor("visitor_page_viewed", `d.visitor === ${JSON.stringify(room.vid)}`, from);
      assert(spa.page.url === `${HOST}maps/world` && spa.page.referrer === HOST, `after pushState: ${JSON.stringify(spa.page)}`);
      assert(spa.pages.length >= 2 && spa.pages[spa.pages.length - 1].url === `${HOST}maps/world`, `pages: ${JSON.stringify(spa.pages)}`);
    }, { independent: true });

    await check("widget14: the visitor sends an image with the file input → a thumbnail in the widget; staff get a type 2 message", async () => {
      const f = frame(v);
      const from = await staff.count();
      await f.locator("#file-input").setInputFiles({ name: "my-map.png", mimeType: "image/png", buffer: PNG_ME });
      const sent = await staff.waitFor("visitor_send", "d.content && d.content.type_id === 2", from);
      assert(sent.content.content.attachment && sent.content.content.attachment.name === "my-map.png", `staff got: ${JSON.stringify(sent.content)}`);
      const img = f.locator(".msg-me img.thumb-img");
      await img.waitFor();
      // the frame is another origin than the shop: ask inside it
      const loaded = await img.evaluate((i) => new Promise((r) => {
        const done = () => r(i.naturalWidth === 64 && i.src.startsWith("blob:"));
        if (i.complete && i.naturalWidth) done(); else { i.onload = done; i.onerror = () => r(false); setTimeout(done, 5000); }
      }));
      assert(loaded, "the visitor's thumbnail did not load from a blob URL");
    }, { independent: true });

    await check("widget14: a staff image uploaded over REST into the claimed chat shows as a thumbnail in the widget", async () => {
      const form = new FormData();
      form.append("file", new Blob([PNG_STAFF], { type: "image/png" }), "route.png");
      const res = await fetch(`${BASE}/api/v1/chats/${room.chatId}/attachments`, { method: "POST", headers: { Authorization: `Bearer ${agentToken}` }, body: form });
      const body = await res.json().catch(() => null);
      assert(res.status === 201 && body && body.attachment, `upload: ${res.status} ${JSON.stringify(body)}`);
      const f = frame(v);
      await f.locator(".msg-staff img.thumb-img").waitFor();
      const ok = await f.locator(".msg-staff img.thumb-img").evaluate((i) => new Promise((r) => {
        const done = () => r(i.naturalWidth === 80 && i.src.startsWith("blob:"));
        if (i.complete && i.naturalWidth) done(); else { i.onload = done; i.onerror = () => r(false); setTimeout(done, 5000); }
      }));
      assert(ok, "the staff image did not load as a blob thumbnail");
      await shot(v, "widget14-thumbnails-desktop.png");
    }, { independent: true });

    await check("widget14: the open widget tells staff it read their message (message_seen, reader null); \"Seen\" after staff's message_read", async () => {
      const from = await staff.count();
      const msg = await staff.emit("staff_msg", { visitor: room.vid, content: { content: "Here is the route.", timestamp: Date.now() } });
      assert(msg.result === true, `staff_msg: ${JSON.stringify(msg)}`);
      const read = await staff.waitFor("message_seen", "d.reader === null", from);
      assert(read.visitor === room.vid && read.sequence_num > 0, `message_seen: ${JSON.stringify(read)}`);
      const f = frame(v);
      assert(await f.locator(".status.seen").count() === 0, "\"Seen\" shows before staff read anything");
      const hist = await api(`/api/v1/chats/${room.chatId}/messages?limit=100`, { token: agentToken });
      const mine = (hist.data && hist.data.results || []).filter((m) => m.sender == null && (m.type_id === 1 || m.type_id === 2));
      assert(mine.length >= 1, `visitor messages: ${JSON.stringify(hist)}`);
      const last = mine[mine.length - 1].sequence_num;
      const r = await staff.emit("message_read", { visitor: room.vid, sequence_num: last });
      assert(r.result === true, `message_read: ${JSON.stringify(r)}`);
      const seen = f.locator(".msg-me .status.seen", { hasText: "Seen" });
      await seen.waitFor();
      assert(await f.locator(".status.seen").count() === 1, "\"Seen\" shows more than once");
      // under the image (the visitor's last message), not under the first text
      assert(await f.locator(".msg-me").last().locator(".status.seen").count() === 1, "\"Seen\" is not under the last read message");
    });

    await check("widget14: the rating at the end: staff leaves → 👍 and a comment → thanks; staff hear chat_rated", async () => {
      const f = frame(v);
      const from = await staff.count();
      const left = await staff.emit("staff_leave_room", { visitor: room.vid });
      assert(left.result === true, `staff_leave_room: ${JSON.stringify(left)}`);
      await f.locator("#rating").waitFor({ state: "visible" });
      await f.locator("#rating", { hasText: "How was this chat?" }).waitFor();
      await f.getByRole("button", { name: "Good" }).click();
      assert((await f.locator("#rate-good").getAttribute("aria-pressed")) === "true", "👍 not pressed");
      await f.getByLabel("Anything you'd like to add?").fill("Quick and friendly ✨");
      await f.locator("#rate-send").click();
      await f.locator("#rating", { hasText: "Thanks for your feedback!" }).waitFor();
      const rated = await staff.waitFor("chat_rated", `d.chat_id === ${JSON.stringify(room.chatId)}`, from);
      assert(rated.rating === "good" && rated.comment === "Quick and friendly ✨" && rated.visitor === room.vid, `chat_rated: ${JSON.stringify(rated)}`);
      await shot(v, "widget14-rated-desktop.png");
    });

    await check("widget14: inactivity: the warning with its seconds, then \"closed after a period of inactivity\" and the rating", async () => {
      const set = await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { inactivity_warning_secs: 2, inactivity_close_secs: 5 } });
      assert(set.status === 200, `PATCH settings: ${JSON.stringify(set)}`);
      const f = frame(v);
      await f.locator("#new-chat").click();
      await f.locator("#input").fill("Are you still there?");
      await f.locator("#input").press("Enter");
      const q = await staff.waitFor("append_unclaimed_chats", `d.visitor.chat_id !== ${JSON.stringify(room.chatId)}`);
      const join = await staff.emit("staff_join", { visitor: q.visitor.id });
      assert(join.result === true, `staff_join: ${JSON.stringify(join)}`);
      await f.locator("#notice", { hasText: /This chat will close in \d+ seconds? if there is no reply\./ }).waitFor({ timeout: 12000 });
      await f.locator("#ended-text", { hasText: "The chat was closed after a period of inactivity." }).waitFor({ timeout: 12000 });
      await f.locator("#rating", { hasText: "How was this chat?" }).waitFor();
      assert(await f.locator("#notice").isHidden(), "the warning stays after the close");
      await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { inactivity_warning_secs: 0, inactivity_close_secs: 0 } });
    });

    await check("widget14: the server's widget_texts override the widget's texts (greeting, launcher label)", async () => {
      const set = await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { widget_texts: { greeting: "Welcome to Atlas! Ask us anything.", launcher_open: "Talk to Atlas" } } });
      assert(set.status === 200, `PATCH settings: ${JSON.stringify(set)}`);
      const page = await newPage("visitor texts", { width: 1280, height: 800 });
      try {
        await page.goto(HOST);
        await page.waitForFunction(() => {
          const b = document.querySelector("[data-frontdesk-widget]").shadowRoot.querySelector("button.l");
          return b.getAttribute("aria-label").startsWith("Talk to Atlas: ");
        }, null, { timeout: WAIT });
        await launcher(page).click();
        await frame(page).locator("#greeting", { hasText: "Welcome to Atlas! Ask us anything." }).waitFor();
      } finally {
        await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { widget_texts: {} } });
        await page.context().close();
      }
    }, { independent: true });

    await check("widget14: German: data-lang=\"de\" and a de-DE browser at 390×844", async () => {
      const page = await openWidget("visitor de", { width: 390, height: 844 }, { locale: "de-DE", isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
        `${HOST}?lang=de`, "Chatten Sie mit uns");
      const f = frame(page, "Chatten Sie mit uns");
      await f.locator("#greeting", { hasText: "Wie können wir Ihnen heute helfen?" }).waitFor();
      assert((await f.locator("#input").getAttribute("placeholder")) === "Nachricht schreiben…", "placeholder not German");
      assert((await f.locator("html").getAttribute("lang")) === "de", "<html lang> is not de");
      assert((await f.locator("#send").getAttribute("aria-label")) === "Nachricht senden", "send button not German");
      assert((await f.locator("#attach").getAttribute("aria-label")) === "Datei anhängen", "attach button not German");
      await page.keyboard.press("Escape");
      await launcher(page).waitFor({ state: "visible" });
      assert((await launcher(page).getAttribute("aria-label")).startsWith("Chat öffnen"), `launcher: ${await launcher(page).getAttribute("aria-label")}`);
      await launcher(page).click();
      await f.locator("#input").fill("Hallo! Gibt es die Karte auch gerahmt? Siehe www.example.de");
      await f.locator("#input").press("Enter");
      await f.locator(".msg-me .bubble a[rel='noopener noreferrer']").waitFor();
      await f.locator("#app", { hasText: /Sie sind als Nächstes dran|Gerade ist niemand erreichbar/ }).waitFor();
      const sw = await page.frames().find((x) => x.url().includes("/chat/")).evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert(sw[0] <= sw[1] + 1, `wider than the phone: ${sw}`);
      await shot(page, "widget14-german-phone.png");
      await page.context().close();
    }, { independent: true });

    await check("widget14: a page loaded before the pre-chat form was switched on: the server's prechat_required refusal brings the form back with the message kept", async () => {
      const page = await openWidget("visitor prechat late", { width: 1280, height: 800 });
      const f = frame(page);
      await f.locator("#prechat").waitFor({ state: "visible" }); // the page's own optional form (data-prechat fallback)
      const set = await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { prechat: { enabled: true, name: "off", email: "required" } } });
      assert(set.status === 200, `PATCH settings: ${JSON.stringify(set)}`);
      const from = await staff.count();
      await f.locator("#input").fill("Do you sell globes?");
      await f.locator("#input").press("Enter");
      await f.locator("#prechat-error", { hasText: "Please fill in the form first" }).waitFor();
      assert((await f.locator("#input").inputValue()) === "Do you sell globes?", "the refused message is not back in the composer");
      assert(await f.locator(".msg-me").count() === 0, "the refused message still shows as sent or failed");
      await f.locator("#prechat").getByLabel(/^Email/).fill("gus@example.net");
      await f.locator("#input").press("Enter");
      const q = await staff.waitFor("append_unclaimed_chats", "d.visitor.email === 'gus@example.net'", from);
      assert(q.contents.some((m) => m.content && m.content.content === "Do you sell globes?"), `contents: ${JSON.stringify(q.contents)}`);
      await f.locator(".msg-me .bubble", { hasText: "Do you sell globes?" }).waitFor();
      await page.context().close();
    }, { independent: true });

    await check("widget14: the server's pre-chat form (email required) blocks the first message until the email is given", async () => {
      const set = await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { prechat: { enabled: true, name: "off", email: "required" } } });
      assert(set.status === 200, `PATCH settings: ${JSON.stringify(set)}`);
      const page = await openWidget("visitor prechat", { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
      const f = frame(page);
      await f.locator("#prechat").waitFor({ state: "visible" });
      const email = f.locator("#prechat").getByLabel(/^Email/);
      await email.waitFor();
      assert(await f.locator("#pc-name").isHidden(), "the name field shows though the setting says off");
      const from = await staff.count();
      await f.locator("#input").fill("Can I pay by invoice?");
      await f.locator("#input").press("Enter");
      await f.locator("#prechat-error", { hasText: "Please enter your email address." }).waitFor();
      await sleep(800);
      assert(await f.locator(".msg-me").count() === 0, "the message was sent without the email");
      assert((await staff.page.evaluate((n) => window.evs.slice(n).filter((m) => m.event === "append_unclaimed_chats").length, from)) === 0,
        "staff got a chat without the email");
      await shot(page, "widget14-prechat-phone.png");
      await email.fill("ines@example.net");
      await f.locator("#input").press("Enter");
      const q = await staff.waitFor("append_unclaimed_chats", "d.visitor.email === 'ines@example.net'", from);
      assert(q.contents.some((m) => m.content && m.content.content === "Can I pay by invoice?"), `contents: ${JSON.stringify(q.contents)}`);
      await f.locator(".msg-me .bubble", { hasText: "Can I pay by invoice?" }).waitFor();
      await api("/api/v1/settings", { method: "PATCH", token: adminToken, body: { prechat: { enabled: false, name: "optional", email: "optional" } } });
      await page.context().close();
    }, { independent: true });
  } finally {
    host.close();
    if (v) await v.context().close().catch(() => {});
    if (staff) await staff.page.context().close().catch(() => {});
    await stopServer(server);
    if (anyFailed) console.log(`     (widget14 server log: ${log})`);
    else fs.rmSync(DATA, { recursive: true, force: true });
  }
}

// ---- alone: node widget14.mjs --bin path/to/frontdesk ----
if (isMain(import.meta.url)) await runAlone("widget14", widget14Checks);
