// Browser checks of issue 12, visitor side: a shop page whose widget reaches the server through
// a loopback TCP proxy (tests/browser/proxy.mjs), so only the visitor's link is cut; two shop
// tabs of one visitor; the conversation that just ended.
//
// Called from journey.mjs (one line, before "no page errors") with its runner and helpers.
import http from "node:http";
import { startProxy } from "./proxy.mjs";

const CUT_MS = 5000;
const WAIT = 20000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} ctx
 * @param {Function} ctx.check    the journey's runner: check(name, fn, {independent})
 * @param {Function} ctx.assert
 * @param {Function} ctx.newPage  newPage(label, viewport, contextOptions) → a page in a new context
 * @param {Function} ctx.login    login(page, who) into the console
 * @param {string}   ctx.BASE     the server's URL
 * @param {object}   ctx.AGENT    the agent's account
 * @param {Function} [ctx.shot]   shot(page, file)
 */
export async function visitorResilience({ check, assert, newPage, login, BASE, AGENT, shot = async () => {} }) {
  const target = new URL(BASE);
  const proxy = await startProxy(Number(target.port), target.hostname);
  const TITLE = "Kiln support";
  const hostHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Kiln &amp; Co</title></head>
<body style="font-family:Georgia,serif;background:#f6f3ee"><h1>Kiln &amp; Co</h1><p>Stoneware, fired twice.</p>
<script src="${proxy.url}/widget.js" async data-title="${TITLE}" data-prechat="optional"></script></body></html>`;
  const host = http.createServer((req, res) => { res.writeHead(200, { "content-type": "text/html; charset=utf-8" }); res.end(hostHtml); });
  await new Promise((r) => host.listen(0, "127.0.0.1", r));
  const HOST = `http://127.0.0.1:${host.address().port}/`;

  const frameOf = (page) => page.frameLocator(`iframe[title='${TITLE}']`);
  const chatFrame = (page) => page.frames().find((f) => f.url().includes("/chat/"));
  const openWidget = async (page) => {
    await page.goto(HOST);
    await page.locator("[data-frontdesk-widget] button.l").click();
    await frameOf(page).locator("#input").waitFor();
  };
  const visitorSays = async (page, text) => {
    await frameOf(page).locator("#input").fill(text);
    await frameOf(page).locator("#input").press("Enter");
  };
  /** The chat texts a side shows, in order, of this check only. */
  const shownInChat = async (page, prefix) =>
    (await frameOf(page).locator("#messages .msg .bubble").allTextContents()).filter((t) => t.startsWith(prefix));
  /** Rows of the visitor's conversation: this check's messages and the "joined" notes. */
  const rowsInChat = async (page, prefix) => (await frameOf(page).locator("#messages > li").evaluateAll((lis) =>
    lis.map((li) => (li.classList.contains("note") ? li.textContent.replace(/ · .*$/, "").trim()
      : (li.querySelector(".bubble") || li).textContent)))).filter((t) => t.startsWith(prefix) || /joined the chat$/.test(t));
  const shownInConsole = async (page, prefix) =>
    (await page.locator("#thread .bubble").allTextContents()).filter((t) => t.startsWith(prefix));
  /** Waits until `read()` equals `want` (the last value in the error otherwise). */
  const until = async (what, read, want, timeout = WAIT) => {
    const deadline = Date.now() + timeout;
    let got;
    while (Date.now() < deadline) {
      got = await read();
      if (JSON.stringify(got) === JSON.stringify(want)) return;
      await sleep(150);
    }
    throw new Error(`${what}:\n  got:  ${JSON.stringify(got)}\n  want: ${JSON.stringify(want)}`);
  };

  // The agent's console, in a page of our own (earlier checks moved the journey's agent around).
  let agent = null;
  const agentReady = async () => {
    if (agent) return agent;
    agent = await newPage("resilience agent", { width: 1366, height: 820 });
    await login(agent, AGENT);
    const here = agent.locator("#use-here");
    await Promise.race([agent.locator("#conn.conn-ok").waitFor(), here.waitFor({ state: "visible" })]);
    if (await here.isVisible()) { await here.click(); await agent.locator("#conn.conn-ok").waitFor(); }
    return agent;
  };
  const claim = async (name) => {
    const a = await agentReady();
    const item = a.locator("#list-queue .item", { hasText: name });
    await item.waitFor({ timeout: WAIT });
    await item.click();
    await a.click("#claim-btn");
    await a.locator("#composer").waitFor({ state: "visible" });
  };
  const agentSays = async (text) => {
    await agent.locator("#composer-input").fill(text);
    await agent.locator("#composer-input").press("Enter");
  };

  try {
    await check("issue 12: a 5 s cut of the visitor's link: the chat continues on both sides, nothing lost or reordered, what was typed during the cut goes out after it", async () => {
      const P = "Cut check:";
      const v = await newPage("cut visitor", { width: 1280, height: 800 });
      await openWidget(v);
      await frameOf(v).locator("#pc-name").fill("Casey Cut");
      await visitorSays(v, `${P} hello`);
      await claim("Casey Cut");
      await frameOf(v).locator(".note", { hasText: "joined the chat" }).waitFor();
      await agentSays(`${P} before the cut`);
      await frameOf(v).locator(".msg-staff .bubble", { hasText: `${P} before the cut` }).waitFor();
      // Every text the visitor's banner and end-of-chat panel show from now on.
      await chatFrame(v).evaluate(() => {
        window.__seen = [];
        const note = () => {
          for (const id of ["banner", "ended"]) {
            const n = document.getElementById(id);
            if (n && !n.hidden) window.__seen.push(`${id}: ${n.textContent.trim().replace(/\s+/g, " ")}`);
          }
        };
        new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      });

      proxy.cut();
      const cutAt = Date.now();
      await visitorSays(v, `${P} typed during the cut 1`);
      await visitorSays(v, `${P} typed during the cut 2`);
      await frameOf(v).locator(".msg-me", { hasText: `${P} typed during the cut 2` }).waitFor();
      await agentSays(`${P} agent during the cut`);
      // The agent's own link is up: that reply is stored now, before what the visitor typed.
      await agent.locator("#thread .bubble", { hasText: `${P} agent during the cut` }).waitFor();
      await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
      proxy.restore();
      const restoredAt = Date.now();

      await frameOf(v).locator(".msg-staff .bubble", { hasText: `${P} agent during the cut` }).waitFor({ timeout: WAIT });
      const back = Date.now() - restoredAt;
      console.log(`     measured: the visitor had the reply sent during the cut ${back} ms after the link came back`);
      await agent.locator("#thread .bubble", { hasText: `${P} typed during the cut 2` }).waitFor({ timeout: WAIT });
      await visitorSays(v, `${P} after the cut`);
      await agent.locator("#thread .bubble", { hasText: `${P} after the cut` }).waitFor();
      await agentSays(`${P} agent after the cut`);

      const want = [`${P} hello`, `${P} before the cut`, `${P} agent during the cut`, `${P} typed during the cut 1`,
        `${P} typed during the cut 2`, `${P} after the cut`, `${P} agent after the cut`];
      await until("the visitor's conversation (each once, in the server's order)", () => shownInChat(v, P), want);
      await until("the agent's conversation", () => shownInConsole(agent, P), want);
      assert(back < 5000, `the visitor came back ${back} ms after the link did (retries are at most 3 s apart)`);
      const seen = await chatFrame(v).evaluate(() => window.__seen);
      const bad = seen.filter((t) => /ended|connection lost|another tab/i.test(t));
      assert(bad.length === 0, `the visitor was told: ${[...new Set(bad)].join(" | ")}`);
      assert(await frameOf(v).locator("#ended").isHidden(), "the chat ended");
      assert(await frameOf(v).locator("#messages .msg-failed").count() === 0, "a message is marked not sent");
      await frameOf(v).locator("#banner").waitFor({ state: "hidden" });
      await shot(v, "widget-after-cut.png");
      await v.context().close();
    }, { independent: true });

    await check("issue 12: a 13 s blackhole of the visitor's link (a sleeping phone): what was typed meanwhile is resent until acked and stored once each, in order", async () => {
      const P = "Sleep check:";
      const v = await newPage("sleeping visitor", { width: 420, height: 760 }, { isMobile: true, hasTouch: true });
      const sentIds = []; // client_msg_id of every visitor_msg frame the widget sent
      v.on("websocket", (ws) => ws.on("framesent", (fr) => {
        try { const m = JSON.parse(fr.payload); if (m.event === "visitor_msg") sentIds.push(m.client_msg_id); } catch { /* not JSON */ }
      }));
      await openWidget(v);
      await frameOf(v).locator("#pc-name").fill("Sol Sleep");
      await visitorSays(v, `${P} hello`);
      await claim("Sol Sleep");
      await agentSays(`${P} hi Sol`);
      const f = frameOf(v);
      await f.locator(".msg-staff .bubble", { hasText: `${P} hi Sol` }).waitFor();
      // Nothing passes either way, but the socket stays open: acks are lost, so the visitor
      // resends with the same client message ids while the first copies wait in the link.
      proxy.blackhole();
      await visitorSays(v, `${P} typed while asleep 1`);
      await visitorSays(v, `${P} typed while asleep 2`);
      await agentSays(`${P} agent while asleep`);
      await agent.locator("#thread .bubble", { hasText: `${P} agent while asleep` }).waitFor();
      await sleep(13000);
      proxy.restore();
      await f.locator(".msg-staff .bubble", { hasText: `${P} agent while asleep` }).waitFor({ timeout: WAIT });
      await agent.locator("#thread .bubble", { hasText: `${P} typed while asleep 2` }).waitFor({ timeout: WAIT });
      const want = [`${P} hello`, `${P} hi Sol`, `${P} agent while asleep`, `${P} typed while asleep 1`, `${P} typed while asleep 2`];
      await until("the visitor's conversation", () => shownInChat(v, P), want);
      await until("the agent's conversation", () => shownInConsole(agent, P), want);
      // The store itself: each message once, in this order, gap-free.
      const frame = chatFrame(v);
      const { token, chatId } = await frame.evaluate(() => ({
        token: JSON.parse(localStorage.getItem("frontdesk.visitor") || "{}").token,
        chatId: JSON.parse(localStorage.getItem("frontdesk.visitor.last_chat") || "{}").chat_id,
      }));
      assert(token && chatId, "no visitor token or chat id in the widget's storage");
      const res = await fetch(`${BASE}/api/v1/chats/${chatId}/messages?limit=500`, { headers: { Authorization: token } });
      assert(res.ok, `history: ${res.status}`);
      const stored = (await res.json()).results;
      const seqs = stored.map((m) => m.sequence_num);
      assert(seqs.every((n, i) => n === i + 1), `sequence numbers: ${seqs}`);
      const texts = stored.filter((m) => m.type_id === 1).map((m) => m.content && m.content.content);
      assert(JSON.stringify(texts) === JSON.stringify(want), `stored: ${JSON.stringify(texts)}`);
      assert(await f.locator("#messages .msg-failed").count() === 0, "a message is marked not sent");
      // It was a real resend: one id went out more than once (and was stored once, above).
      const resent = sentIds.filter((id, i) => id && sentIds.indexOf(id) !== i);
      assert(resent.length > 0, `no message was resent (frames: ${JSON.stringify(sentIds)})`);
      console.log(`     measured: ${sentIds.length} visitor_msg frames for ${want.length - 2} messages (${resent.length} resent with the same id)`);
      await v.context().close();
    }, { independent: true });

    await check("issue 12: two shop tabs of one visitor: live in both, sending alternately, both show the whole conversation in order; closing the tab that holds the connection hands it over", async () => {
      const P = "Tabs check:";
      const tabA = await newPage("visitor tab A", { width: 1100, height: 760 });
      await openWidget(tabA);
      await frameOf(tabA).locator("#pc-name").fill("Tomi Tabs");
      await visitorSays(tabA, `${P} 1 from tab A`);
      await claim("Tomi Tabs");
      const tabB = await tabA.context().newPage();
      await openWidget(tabB);
      // The second tab shows the conversation so far, and no "open in another tab" dead end.
      await frameOf(tabB).locator(".msg-me .bubble", { hasText: `${P} 1 from tab A` }).waitFor();
      const steps = [
        ["B", `${P} 2 from tab B`], ["A", `${P} 3 from tab A`], ["agent", `${P} 4 from the agent`],
        ["B", `${P} 5 from tab B`], ["A", `${P} 6 from tab A`],
      ];
      const want = [`${P} 1 from tab A`];
      for (const [who, text] of steps) {
        if (who === "agent") await agentSays(text);
        else await visitorSays(who === "A" ? tabA : tabB, text);
        want.push(text);
        // Live in the other tab before the next one writes.
        const other = who === "A" ? tabB : tabA;
        await frameOf(other).locator(".msg .bubble", { hasText: text }).waitFor();
      }
      await until("tab A's conversation", () => shownInChat(tabA, P), want);
      await until("tab B's conversation", () => shownInChat(tabB, P), want);
      // The agent joined between the first and the second message, in both tabs.
      const rows = [want[0], `${AGENT.name} joined the chat`, ...want.slice(1)];
      await until("tab A's rows", () => rowsInChat(tabA, P), rows);
      await until("tab B's rows", () => rowsInChat(tabB, P), rows);
      await until("the agent's conversation", () => shownInConsole(agent, P), want);
      for (const t of [tabA, tabB]) {
        const banner = frameOf(t).locator("#banner");
        assert(await banner.isHidden() || !/another/i.test(await banner.textContent()), `a tab says: ${await banner.textContent()}`);
      }
      await shot(tabB, "widget-second-tab.png");

      // The first tab held the connection: close it, the other takes over and goes on.
      await tabA.close();
      await visitorSays(tabB, `${P} 7 from tab B alone`);
      await agent.locator("#thread .bubble", { hasText: `${P} 7 from tab B alone` }).waitFor({ timeout: WAIT });
      await agentSays(`${P} 8 from the agent`);
      await frameOf(tabB).locator(".msg-staff .bubble", { hasText: `${P} 8 from the agent` }).waitFor({ timeout: WAIT });
      want.push(`${P} 7 from tab B alone`, `${P} 8 from the agent`);
      await until("tab B's conversation after tab A closed", () => shownInChat(tabB, P), want);
      await until("the agent's conversation after tab A closed", () => shownInConsole(agent, P), want);
      await tabB.context().close();
    }, { independent: true });

    await check("issue 12: the conversation that just ended stays readable (also after a reload), with \"Start a new conversation\"", async () => {
      const P = "Ended check:";
      const v = await newPage("ended visitor", { width: 420, height: 760 }, { isMobile: true, hasTouch: true });
      await openWidget(v);
      await frameOf(v).locator("#pc-name").fill("Erin Ended");
      await visitorSays(v, `${P} where is my parcel?`);
      await claim("Erin Ended");
      await agentSays(`${P} it arrives tomorrow`);
      const f = frameOf(v);
      await f.locator(".msg-staff .bubble", { hasText: `${P} it arrives tomorrow` }).waitFor();
      // The agent leaves: the chat ends, and what was said stays on the visitor's screen.
      await agent.locator("#conv-leave").click();
      await f.locator("#ended", { hasText: "closed this chat" }).waitFor();
      const want = [`${P} where is my parcel?`, `${P} it arrives tomorrow`];
      await until("the ended conversation", () => shownInChat(v, P), want);
      await v.reload();
      await v.locator("[data-frontdesk-widget] button.l").click();
      await f.locator("#ended").waitFor({ state: "visible" });
      await until("the ended conversation after a reload", () => shownInChat(v, P), want);
      assert(await f.locator("#composer").isHidden(), "the ended conversation is writable");
      await shot(v, "widget-ended-readable-phone.png");
      await f.getByRole("button", { name: "Start a new conversation" }).click();
      await f.locator("#composer").waitFor({ state: "visible" });
      await until("messages after Start a new conversation", () => shownInChat(v, P), []);
      assert(await f.locator("#input").evaluate((n) => document.activeElement === n), "the input is not focused for the new conversation");
      // A reload now shows the new (empty) conversation, not the old one again.
      await v.reload();
      await v.locator("[data-frontdesk-widget] button.l").click();
      await f.locator("#input").waitFor();
      await sleep(800);
      assert((await shownInChat(v, P)).length === 0, "the old conversation came back after Start a new conversation");
      await v.context().close();
    }, { independent: true });

    await check("issue 12: the agent's connection drops: the visitor reads \"… lost connection, back soon\", the chat stays open and goes on when the agent is back", async () => {
      const P = "Away check:";
      const v = await newPage("away visitor", { width: 1280, height: 800 });
      await openWidget(v);
      await frameOf(v).locator("#pc-name").fill("Ari Away");
      await visitorSays(v, `${P} hello`);
      await claim("Ari Away");
      await agentSays(`${P} hi Ari`);
      const f = frameOf(v);
      await f.locator(".msg-staff .bubble", { hasText: `${P} hi Ari` }).waitFor();
      // The agent's console goes away (a closed tab, a dropped Wi-Fi): staff_away.
      await agent.context().close();
      agent = null;
      await f.locator("#agent-away", { hasText: `${AGENT.name} lost connection, back soon` }).waitFor({ timeout: WAIT });
      await visitorSays(v, `${P} are you there?`);
      await f.locator(".msg-me", { hasText: `${P} are you there?` }).waitFor();
      assert(await f.locator("#ended").isHidden(), "the chat ended when the agent's connection dropped");
      await shot(v, "widget-agent-away.png");
      // Back: staff_back clears the line; the agent has the chat and what was written meanwhile.
      const a = await agentReady();
      await f.locator("#agent-away").waitFor({ state: "hidden", timeout: WAIT });
      await a.locator("#list-mine .item", { hasText: "Ari Away" }).click();
      await a.locator("#thread .bubble", { hasText: `${P} are you there?` }).waitFor({ timeout: WAIT });
      await agentSays(`${P} yes, back now`);
      await f.locator(".msg-staff .bubble", { hasText: `${P} yes, back now` }).waitFor();
      await until("the visitor's conversation", () => shownInChat(v, P),
        [`${P} hello`, `${P} hi Ari`, `${P} are you there?`, `${P} yes, back now`]);
      await v.context().close();
    }, { independent: true });
  } finally {
    if (agent) await agent.context().close().catch(() => {});
    await proxy.close();
    host.close();
  }
}
