// Browser checks of the staff console on real networks (issue 12), called from journey.mjs:
//
//   - the 6 s agent cut: the console is loaded through a loopback TCP proxy (proxy.mjs), so only
//     the agent's link is cut; the chat continues on both sides, replies typed during the cut go
//     out in order after it, nothing is lost, doubled or reordered, and the console resumed with
//     `sync` from the last sequence_num it had;
//   - replies typed while the SERVER is down (the process stopped and started again) go out in
//     order once it is back, each in its place by sequence_num;
//   - a second console tab of the same staff member: it follows (no empty queue as if nobody were
//     waiting), "Use it here" takes over cleanly and the first tab follows without fighting back.
//
// Each check compares both screens with what the server stored (REST, as the admin).
import { startProxy } from "./proxy.mjs";

const CUT_MS = 6000;
const WAIT = 30000; // a reconnect after a cut or a restart, with margin for a loaded machine

export async function consoleResilience(ctx) {
  const { check, assert, newPage, pageErrors, BASE, BIN, ADMIN, startServer, stopServer, shot } = ctx;
  const port = Number(new URL(BASE).port);
  const RITA = { email: "rita@example.com", password: "rita-pass-123", name: "Rita Resilient" };
  let proxy = null;      // the agent's link
  let vproxy = null;     // the visitor's link
  let agent = null;      // Rita's console, through the proxy
  let visitor = null;    // the visitor's /chat/ page, straight to the server
  let adminToken = null;
  let chatId = null;
  let visitorLabel = ""; // the visitor's name as the console shows it
  const sentFrames = []; // what Rita's console sent on /ws
  const gotFrames = [];  // what it received

  const api = async (path, { method = "GET", body, token = adminToken } = {}) => {
    const res = await fetch(`${BASE}${path}`, {
      method,
      headers: { ...(token ? { Authorization: token } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
    return data;
  };
  /** The texts of the chat's stored messages (type 1), in sequence_num order, checked gap-free. */
  const stored = async () => {
    const data = await api(`/api/v1/chats/${encodeURIComponent(chatId)}/messages?limit=200`);
    const all = (data.results || []).slice().sort((a, b) => a.sequence_num - b.sequence_num);
    all.forEach((m, i) => assert(m.sequence_num === i + 1, `stored sequence_nums not gap-free: ${all.map((x) => x.sequence_num)}`));
    return all.filter((m) => m.type_id === 1).map((m) => (m.content && m.content.content) || "");
  };
  const agentThread = () => agent.locator("#thread .msg .bubble").allTextContents();
  const visitorThread = () => visitor.locator("#messages .msg .bubble").allTextContents();
  const sameList = (got, want, who) => {
    assert(JSON.stringify(got) === JSON.stringify(want),
      `${who} shows:\n       ${JSON.stringify(got)}\n     the server stored:\n       ${JSON.stringify(want)}`);
  };
  /** Waits until both screens show exactly what the server stored, in its order. */
  const allAgree = async (expectCount) => {
    let last = "";
    for (let i = 0; i < 60; i++) {
      const [s, a, v] = [await stored(), await agentThread(), await visitorThread()];
      if (s.length === expectCount && JSON.stringify(a) === JSON.stringify(s) && JSON.stringify(v) === JSON.stringify(s)) return s;
      last = JSON.stringify({ stored: s, agent: a, visitor: v });
      await agent.waitForTimeout(500);
    }
    const s = await stored();
    assert(s.length === expectCount, `the server stored ${s.length} messages, expected ${expectCount}: ${JSON.stringify(s)}`);
    sameList(await agentThread(), s, "the console");
    sameList(await visitorThread(), s, "the visitor");
    throw new Error(`screens disagree: ${last}`);
  };
  /** The console's staff_msg frames of a text, and the client message id of one. */
  const staffMsgs = (text) => sentFrames.filter((f) => f.event === "staff_msg" && f.data && f.data.content && f.data.content.content === text);
  const idOf = (f) => f.client_msg_id || (f.data && f.data.client_msg_id) || null;
  const agentSays = async (text) => {
    await agent.locator("#composer-input").fill(text);
    await agent.locator("#composer-input").press("Enter");
  };
  const visitorSays = async (text) => {
    await visitor.locator("#input").fill(text);
    await visitor.locator("#input").press("Enter");
  };

  await check("console resilience: an agent reached through a proxy claims a chat", async () => {
    adminToken = (await api("/api/v1/auth/login", { method: "POST", body: { email: ADMIN.email, password: ADMIN.password }, token: null })).access_token;
    await api("/api/v1/staff", { method: "POST", body: { full_name: RITA.name, email: RITA.email, role_id: 3, password: RITA.password } });
    proxy = await startProxy(port);
    agent = await newPage("resilient agent", { width: 1366, height: 820 });
    agent.on("websocket", (ws) => {
      ws.on("framesent", (f) => { try { sentFrames.push(JSON.parse(f.payload)); } catch { /* not JSON */ } });
      ws.on("framereceived", (f) => { try { gotFrames.push(JSON.parse(f.payload)); } catch { /* not JSON */ } });
    });
    await agent.goto(`${proxy.url}/console/`);
    await agent.fill("#login-email", RITA.email);
    await agent.fill("#login-password", RITA.password);
    await agent.click("#login-submit");
    await agent.locator("#conn.conn-ok").waitFor();
    vproxy = await startProxy(port);
    visitor = await newPage("resilient visitor", { width: 800, height: 760 });
    await visitor.goto(`${vproxy.url}/chat/`);
    await visitorSays("Resilience: my parcel is lost");
    await visitor.locator(".msg-me .bubble", { hasText: "my parcel is lost" }).waitFor();
    const item = agent.locator("#list-queue .item", { hasText: "my parcel is lost" });
    await item.click();
    await agent.click("#claim-btn");
    await agent.locator("#composer").waitFor({ state: "visible" });
    visitorLabel = (await agent.locator("#conv-name").textContent()).trim();
    await visitor.locator(".note", { hasText: "joined the chat" }).waitFor();
    await agentSays("Let me look that up.");
    await visitor.locator(".msg-staff .bubble", { hasText: "Let me look that up." }).waitFor();
    await visitorSays("Order 77.");
    await agent.locator("#thread .bubble", { hasText: "Order 77." }).waitFor();
    // The chat's id, from the event that queued it on Rita's console.
    const queued = gotFrames.find((f) => f.event === "append_unclaimed_chats" &&
      JSON.stringify(f.data && f.data.contents || []).includes("my parcel is lost"));
    chatId = queued && queued.data.visitor && queued.data.visitor.chat_id;
    assert(chatId, "the console got no append_unclaimed_chats with the chat's id");
    await allAgree(3);
  });

  await check("console resilience: a 6 s cut of the agent's link — the chat goes on, replies typed meanwhile arrive once, in order", async () => {
    const beforeSync = sentFrames.length;
    proxy.cut();
    await agent.locator("#conn.conn-warn").waitFor();
    await agentSays("Typed during the cut, one.");
    await visitorSays("Visitor during the cut.");
    await agentSays("Typed during the cut, two.");
    await agent.locator("#thread .msg", { hasText: "Typed during the cut, two." }).waitFor();
    await agent.waitForTimeout(500);
    await shot(agent, "console-agent-cut.png");
    await agent.waitForTimeout(Math.max(0, CUT_MS - 1500));
    proxy.restore();
    const restoredAt = Date.now();
    await agent.locator("#conn.conn-ok").waitFor({ timeout: WAIT });
    const onlineMs = Date.now() - restoredAt;
    const texts = await allAgree(6);
    console.log(`     measured: console online ${onlineMs} ms after the link came back; both screens agreed with the store after ${Date.now() - restoredAt} ms`);
    // The visitor wrote before the agent's second reply reached the server: both sides show the
    // stored order, which puts the agent's two cut-time replies after it or around it — but
    // exactly once each, and "one" before "two".
    assert(texts.indexOf("Typed during the cut, one.") < texts.indexOf("Typed during the cut, two."), `replies reordered: ${texts}`);
    assert(await agent.locator("#thread .msg-failed").count() === 0, "a reply is still shown as Not sent");
    assert(await agent.locator("#thread", { hasText: "Waiting for connection" }).count() === 0, "a reply still waits for the connection");
    assert((await agent.locator("#conv").getAttribute("data-status")) === "mine", "the chat is no longer the agent's");
    assert(await agent.locator("#composer").isVisible(), "the composer closed");
    assert(await visitor.locator("#ended").isHidden(), "the visitor was told the chat ended");
    const syncs = sentFrames.slice(beforeSync).filter((f) => f.event === "sync" && f.data && f.data.chat_id === chatId);
    assert(syncs.length > 0 && syncs[0].data.after_sequence_num >= 3,
      `the console did not resume with sync from its last sequence_num: ${JSON.stringify(syncs.slice(0, 3))}`);
    assert(gotFrames.some((f) => f.event === "messages_since" && f.data && f.data.chat_id === chatId),
      "the server never answered the console's sync with messages_since");
    // Each reply went out with one client message id (a resend reuses it: stored once).
    for (const t of ["Typed during the cut, one.", "Typed during the cut, two."]) {
      const ids = new Set(staffMsgs(t).map(idOf));
      assert(ids.size === 1 && !ids.has(null), `"${t}" was sent with client_msg_ids ${JSON.stringify([...ids])}`);
    }
    // And the conversation simply continues.
    await agentSays("All good again?");
    await visitor.locator(".msg-staff .bubble", { hasText: "All good again?" }).waitFor();
    await allAgree(7);
  });

  await check("console resilience: a reply whose ack never comes is resent with the same client_msg_id and stored once", async () => {
    const base = (await stored()).length;
    // A link that holds everything (a sleeping phone): the reply reaches nobody and no ack comes
    // back; after the ack timeout (10 s) the console resends it. Then the link flows again and
    // the server gets the reply twice, with one id.
    proxy.blackhole();
    try {
      await agentSays("Held by the blackhole.");
      for (let i = 0; i < 40 && staffMsgs("Held by the blackhole.").length < 2; i++) await agent.waitForTimeout(500);
    } finally {
      proxy.restore();
    }
    const frames = staffMsgs("Held by the blackhole.");
    assert(frames.length >= 2, `the console did not resend the reply after the ack timeout (${frames.length} frame)`);
    assert(new Set(frames.map(idOf)).size === 1 && idOf(frames[0]), `the resend used another client_msg_id: ${JSON.stringify(frames.map(idOf))}`);
    const texts = await allAgree(base + 1);
    assert(texts.filter((t) => t === "Held by the blackhole.").length === 1, `stored ${texts.filter((t) => t === "Held by the blackhole.").length} times`);
    assert(await agent.locator("#thread .msg-failed").count() === 0, "the reply is shown as Not sent");
  });

  await check("console resilience: colleagues see the agent's lost connection (staff_away) where colleagues are listed, and its return", async () => {
    const SOL = { email: "sol@example.com", password: "sol-pass-1234", name: "Sol Supervisor" };
    await api("/api/v1/staff", { method: "POST", body: { full_name: SOL.name, email: SOL.email, role_id: 2, password: SOL.password } });
    const sol = await newPage("resilience supervisor", { width: 1366, height: 820 });
    await sol.goto(`${BASE}/console/`);
    await sol.fill("#login-email", SOL.email);
    await sol.fill("#login-password", SOL.password);
    await sol.click("#login-submit");
    await sol.locator("#conn.conn-ok").waitFor();
    const rita = sol.locator("#online-staff .person", { hasText: RITA.name });
    await rita.waitFor();
    // Sol watches Rita's chat: the participants card lists her too.
    await sol.locator("#list-live .item", { hasText: visitorLabel }).click();
    await sol.locator("#participants .person", { hasText: RITA.name }).waitFor();
    proxy.cut();
    try {
      await sol.locator("#online-staff .person[data-connection=lost]", { hasText: RITA.name }).waitFor();
      await rita.getByText("Lost connection, back soon").waitFor();
      await sol.locator("#participants .person", { hasText: "Lost connection, back soon" }).waitFor();
      await sol.locator("#conv-away", { hasText: `${RITA.name} lost connection, back soon` }).waitFor();
      await sol.waitForTimeout(300);
      await shot(sol, "console-colleague-lost-connection.png");
    } finally {
      proxy.restore();
    }
    await agent.locator("#conn.conn-ok").waitFor({ timeout: WAIT });
    // Rita's own row (colleagues whose consoles closed earlier are within their grace: staff_init
    // lists them with connected: false, shown as lost connection too).
    await sol.locator("#online-staff .person[data-connection=lost]", { hasText: RITA.name }).waitFor({ state: "detached" });
    await sol.locator("#conv-away").waitFor({ state: "hidden" });
    assert(await rita.count() === 1, "Rita left the team list");
    await sol.context().close();
  }, { independent: true });

  await check("console resilience: while the visitor's link is cut the chat says they are offline and stays open; cleared when they are back", async () => {
    await agent.locator("#list-mine .item", { hasText: visitorLabel }).click();
    vproxy.cut();
    try {
      // (A short wait: on a server without a grace the chat would end while this one runs.)
      await agent.locator("#conv-away", { hasText: "is offline — the chat stays open" }).waitFor({ timeout: 8000 });
      assert((await agent.locator("#conv").getAttribute("data-status")) === "mine", "the chat is no longer the agent's");
      assert(await agent.locator("#composer").isVisible(), "the composer closed while the visitor was away");
      await agent.waitForTimeout(300);
      await shot(agent, "console-visitor-away.png");
    } finally {
      vproxy.restore();
    }
    await agent.locator("#conv-away").waitFor({ state: "hidden", timeout: WAIT });
    const base = (await stored()).length;
    await agentSays("Welcome back.");
    await visitor.locator(".msg-staff .bubble", { hasText: "Welcome back." }).waitFor();
    await allAgree(base + 1);
  }, { independent: true });

  if (BIN) {
    await check("console resilience: replies typed while the server is down go out in order when it is back", async () => {
      const base = (await stored()).length;
      let waitingShown = false;
      await stopServer();
      try {
        await agent.locator("#conn.conn-warn").waitFor();
        for (const t of ["Down one.", "Down two.", "Down three."]) await agentSays(t);
        await agent.locator("#thread .msg", { hasText: "Down three." }).waitFor();
        waitingShown = await agent.locator("#thread .msg", { hasText: "Waiting for connection" }).count() === 3;
        await agent.waitForTimeout(1500);
      } finally {
        await startServer();
      }
      const upAt = Date.now();
      await agent.locator("#conn.conn-ok").waitFor({ timeout: WAIT });
      const texts = await allAgree(base + 3);
      console.log(`     measured: the three replies stored and shown in order ${Date.now() - upAt} ms after the server was back`);
      const at = ["Down one.", "Down two.", "Down three."].map((t) => texts.indexOf(t));
      assert(at[0] >= 0 && at[0] < at[1] && at[1] < at[2], `replies out of order: ${texts}`);
      assert(await agent.locator("#thread .msg-failed").count() === 0, "a reply is still shown as Not sent");
      assert(waitingShown, "while the server was down the three replies did not say \"Waiting for connection…\"");
      // Every message in the console carries its sequence_num, ascending (none kept as a local echo).
      const seqs = await agent.locator("#thread .msg").evaluateAll((ls) => ls.map((l) => l.getAttribute("data-seq")));
      assert(seqs.every((s, i) => s && Number(s) > 0 && (i === 0 || Number(s) > Number(seqs[i - 1]))), `thread not in sequence_num order: ${seqs}`);
    }, { independent: true });
  }

  await check("console resilience: a second console tab follows (no empty queue), takes over cleanly, and the first follows", async () => {
    // Somebody waits in the queue, so an empty queue would be a lie.
    const waiting = await newPage("resilience queue visitor", { width: 800, height: 700 });
    await waiting.goto(`${BASE}/chat/`);
    await waiting.locator("#input").fill("Resilience: anyone there?");
    await waiting.locator("#input").press("Enter");
    await agent.locator("#list-queue .item", { hasText: "anyone there?" }).waitFor();
    const second = await agent.context().newPage();
    second.on("pageerror", (e) => pageErrors.push(`resilient agent tab 2: ${e.message}`));
    await second.goto(`${proxy.url}/console/`);
    await second.locator("#already-online").waitFor({ state: "visible" });
    await second.waitForTimeout(500);
    assert(await second.locator("#empty-queue").isHidden(), "the second tab shows \"Nobody is waiting\" while somebody is");
    assert(await second.locator("#inbox-view").isHidden(), "the second tab shows an inbox it does not have");
    await second.locator("#already-online", { hasText: "open in another tab" }).waitFor();
    // What it says comes from the live tab: people waiting, and chats of mine.
    await second.locator("#elsewhere-summary", { hasText: /waiting in the queue/ }).waitFor();
    assert(!/nobody is waiting/i.test(await second.locator("#elsewhere-summary").textContent()), "the second tab says nobody is waiting");
    await shot(second, "console-second-tab.png");
    await second.click("#use-here");
    await second.locator("#conn.conn-ok").waitFor();
    await second.locator("#list-mine .item", { hasText: "Down three." }).waitFor();
    await second.locator("#list-queue .item", { hasText: "anyone there?" }).waitFor();
    await agent.locator("#already-online").waitFor({ state: "visible" });
    assert(await agent.locator("#inbox-view").isHidden(), "the first tab still shows its stale inbox");
    // The first tab does not fight back (no reconnect that would take the session again).
    await agent.waitForTimeout(3000);
    assert(await second.locator("#conn.conn-ok").count() === 1, "the second tab lost the session again");
    await second.locator("#list-mine .item", { hasText: "Down three." }).click();
    await second.locator("#composer-input").fill("From the second tab.");
    await second.locator("#composer-input").press("Enter");
    await visitor.locator(".msg-staff .bubble", { hasText: "From the second tab." }).waitFor();
    // The second tab closes: the first one carries on by itself.
    await second.close();
    await agent.locator("#conn.conn-ok").waitFor({ timeout: WAIT });
    await agent.locator("#inbox-view").waitFor({ state: "visible" });
    await agent.locator("#list-mine .item", { hasText: "From the second tab." }).click();
    await agent.locator("#thread .bubble", { hasText: "From the second tab." }).waitFor();
    await waiting.context().close();
  }, { independent: true });

  if (proxy) await proxy.close();
  if (vproxy) await vproxy.close();
  if (visitor) await visitor.context().close();
  if (agent) await agent.context().close();
}
