// The seed's core journey through socket.io-client for Node with default options
// (`io(url, {auth: {token}})`: polling, then the WebSocket upgrade).
// Usage: node node_journey.mjs BASE_URL AGENT_TOKEN SUPERVISOR_TOKEN ADMIN_TOKEN
import { io } from "socket.io-client";

const [BASE, AGENT, SUP, ADMIN] = process.argv.slice(2);
const WAIT = 10000;
let passed = 0;
let failed = 0;

function check(name, cond, detail = "") {
  if (cond) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
}

function party(name, token) {
  const socket = io(BASE, { auth: { token }, reconnection: false });
  const inbox = [];
  const waiters = [];
  socket.onAny((event, data) => {
    inbox.push([event, data]);
    waiters.splice(0).forEach((w) => w());
  });
  const p = {
    name,
    socket,
    ready: new Promise((resolve, reject) => {
      socket.on("connect", resolve);
      socket.on("connect_error", reject);
    }),
    // The server acks with two arguments: (result, error_message).
    emit: (event, ...args) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no ack for ${event}`)), WAIT);
        socket.emit(event, ...args, (result, error) => {
          clearTimeout(timer);
          resolve([result, error]);
        });
      }),
    next: (event) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + WAIT;
        const look = () => {
          const i = inbox.findIndex(([e]) => e === event);
          if (i >= 0) return resolve(inbox.splice(i, 1)[0][1]);
          if (Date.now() > deadline) return reject(new Error(`${name}: no ${event}`));
          waiters.push(look);
          setTimeout(look, 100);
        };
        look();
      }),
  };
  return p;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function main() {
  const agent = party("agent", AGENT);
  const sup = party("supervisor", SUP);
  const admin = party("admin", ADMIN);
  await Promise.all([agent.ready, sup.ready, admin.ready]);
  check("staff_init on connect", Array.isArray((await agent.next("staff_init")).online_users));
  await sup.next("staff_init");
  await admin.next("staff_init");

  const res = await fetch(`${BASE}/api/v1/visitors`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Node Visitor" }),
  });
  const { visitor: v, access_token } = await res.json();
  const visitor = party("visitor", access_token);
  await visitor.ready;
  const init = await visitor.next("visitor_init");
  check("visitor_init", init.staff === null && init.contents.length === 0, init);
  await new Promise((r) => setTimeout(r, 300));
  check("upgraded to websocket", agent.socket.io.engine.transport.name === "websocket", agent.socket.io.engine.transport.name);

  check("visitor_first_msg acked [true, null]", same(await visitor.emit("visitor_first_msg", { content: "Hi from Node" }), [true, null]));
  const app = await agent.next("append_unclaimed_chats");
  check("append_unclaimed_chats", app.visitor.id === v.id && app.contents[0].sequence_num === 1, app);

  check("staff_join", same(await agent.emit("staff_join", { visitor: v.id }), [true, null]));
  check("staff_join_room", (await visitor.next("staff_join_room")).staff.email === "agent@shop.test");
  check("staff_claim_chat", (await sup.next("staff_claim_chat")).next_offline_unclaimed_visitor === null);
  await sup.next("agent_new_chat");

  check("visitor_msg", same(await visitor.emit("visitor_msg", { content: "Help?" }), [true, null]));
  check("visitor_send", (await agent.next("visitor_send")).content.content.content === "Help?");
  check("staff_msg", same(await agent.emit("staff_msg", { visitor: v.id, content: { content: "Sure" } }), [true, null]));
  check("staff_send", (await visitor.next("staff_send")).content.content.content === "Sure");
  await sup.next("new_staff_msg_for_supervisor");

  check("typing", same(await visitor.emit("user_typing_send", { visitor: v.id }), [true, null]));
  check("user_typing_receive", (await agent.next("user_typing_receive")).staff === null);
  check("agent typing", same(await agent.emit("user_typing_send", { visitor: v.id }), [true, null]));
  check("user_typing_receive (visitor)", (await visitor.next("user_typing_receive")).staff.email === "agent@shop.test");

  check("take_over_chat", same(await sup.emit("take_over_chat", { visitor: v.id }), [true, null]));
  check("staff_being_taken_over_chat", (await agent.next("staff_being_taken_over_chat")).staff.email === "sup@shop.test");
  await visitor.next("staff_being_taken_over_chat");
  await admin.next("staff_take_over_chat");
  check("unknown event refused", same(await agent.emit("nope", {}), [false, "Unknown event: nope"]));

  check("visitor_leave_room", same(await visitor.emit("visitor_leave_room"), [true, null]));
  check("visitor_leave_queue", (await agent.next("visitor_leave_queue")).user.id === v.id);
  await sup.next("visitor_leave_chat_for_supervisor");

  for (const p of [visitor, agent, sup, admin]) p.socket.disconnect();

  const bad = party("bad", "f".repeat(64));
  try {
    await bad.ready;
    check("bad token refused", false, "connected");
  } catch (e) {
    check("bad token refused (connect_error)", true);
  }
  bad.socket.disconnect();
}

try {
  await main();
} catch (e) {
  failed++;
  console.log(`FAIL journey aborted: ${e}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
