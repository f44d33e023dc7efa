// A stand-in for the frontdesk binary, for UI work while the server side is being built:
// serves web/ with the real server's headers and implements, in memory, the REST endpoints the UI
// uses and the native /ws protocol of product.md §4/§6 (acks, staff_init, visitor_init, queue,
// claim, messages, typing, leave, take over, add/remove staff, priority, presence, force,
// reconnect grace, queue_position). Not a conformance reference: the Rust server is.
//
//   node mock-server.mjs --listen 127.0.0.1:8099 [--web ../../web] [--state FILE] [--grace SECS]
//   staff from FRONTDESK_MOCK_STAFF='[{"email":..,"full_name":..,"role_id":1,"password":..}]'
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { WebSocketServer } from "ws";

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith("--") ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const [HOST, PORT] = (args.listen || "127.0.0.1:8099").split(":");
const WEB = path.resolve(args.web || new URL("../../web", import.meta.url).pathname);
const GRACE_MS = Number(args.grace ?? 10) * 1000;
const ORG = id();

function id() { return crypto.randomUUID().replace(/-/g, ""); }
const now = () => Date.now();

// ---- data ----------------------------------------------------------------------------------------
const staff = new Map();     // id -> staff (+password)
const visitors = new Map();  // id -> visitor
const tokens = new Map();    // token -> {kind, id}
const chats = new Map();     // chat id -> chat
const openChat = new Map();  // visitor id -> chat id
const flagged = [];          // visitor ids, most recent first

function addStaff({ email, full_name, display_name = null, role_id = 3, password }) {
  const s = { id: id(), email, full_name, display_name, organisation_id: ORG, role_id, disabled: false, created_at: now(), updated_at: null, password };
  staff.set(s.id, s);
  return s;
}
// --state FILE: survive a restart (saved on SIGTERM), like the real server's SQLite.
const STATE = args.state;
if (STATE && fs.existsSync(STATE)) {
  const st = JSON.parse(fs.readFileSync(STATE, "utf8"));
  st.staff.forEach((x) => staff.set(x.id, x));
  st.visitors.forEach((x) => visitors.set(x.id, x));
  st.tokens.forEach(([k, v]) => tokens.set(k, v));
  st.chats.forEach((c) => chats.set(c.id, { ...c, staff: new Set(c.staff), status: c.status === "unclaimed" ? "offline" : c.status }));
  st.openChat.forEach(([k, v]) => openChat.set(k, v));
  flagged.push(...st.flagged);
} else {
  for (const s of JSON.parse(process.env.FRONTDESK_MOCK_STAFF || "[]")) addStaff(s);
}
process.on("SIGTERM", () => {
  if (STATE) {
    fs.writeFileSync(STATE, JSON.stringify({ staff: [...staff.values()], visitors: [...visitors.values()], tokens: [...tokens],
      chats: [...chats.values()].map((c) => ({ ...c, staff: [...c.staff] })), openChat: [...openChat], flagged }));
  }
  process.exit(0);
});
const pubStaff = (s) => { if (!s) return null; const { password, ...p } = s; return p; };
const roomOf = (vid) => {
  const v = visitors.get(vid);
  const c = chats.get(openChat.get(vid));
  const firstStaff = c && [...c.staff][0];
  return { ...v, visitor_id: vid, chat_id: c ? c.id : null, severity_level: c ? c.severity : 0, tags: [], staff: firstStaff ? pubStaff(staff.get(firstStaff)) : null };
};
const visitorObj = (vid) => ({ ...visitors.get(vid) });

// ---- live connections --------------------------------------------------------------------------
const staffConn = new Map();   // staff id -> ws
const visitorConn = new Map(); // visitor id -> ws
const graceTimers = new Map(); // "s:id"/"v:id" -> timeout

function send(ws, event, data) { if (ws && ws.readyState === 1) ws.send(JSON.stringify({ event, data })); }
function toStaff(event, data, filter = () => true) { for (const [sid, ws] of staffConn) if (filter(staff.get(sid))) send(ws, event, data); }
const toSupervisors = (event, data) => toStaff(event, data, (s) => s.role_id <= 2);
function toRoomStaff(c, event, data, except) { for (const sid of c.staff) if (sid !== except) send(staffConn.get(sid), event, data); }

function store(c, type_id, sender, content) {
  const m = { id: id(), chat_id: c.id, sequence_num: c.messages.length + 1, type_id, sender, content, created_at: now() };
  c.messages.push(m);
  return m;
}

function queuePositions() {
  const q = [...chats.values()].filter((c) => c.status === "unclaimed").sort((a, b) => a.created_at - b.created_at);
  q.forEach((c, i) => send(visitorConn.get(c.visitor_id), "queue_position", { position: i + 1, estimated_wait_seconds: 60 * (i + 1) }));
}

function closeChat(c) {
  c.status = "ended";
  openChat.delete(c.visitor_id);
  c.staff.clear();
  queuePositions();
}

// ---- handlers ------------------------------------------------------------------------------------
const visitorHandlers = {
  visitor_first_msg: (vid, content) => visitorMessage(vid, content),
  visitor_msg_unclaimed: (vid, content) => visitorMessage(vid, content),
  visitor_msg: (vid, content) => visitorMessage(vid, content),
  visitor_leave_room: (vid) => {
    const c = chats.get(openChat.get(vid));
    if (!c) throw "The chat room is either closed or doesn't exist.";
    const room = roomOf(vid);
    closeChat(c);
    toStaff("visitor_leave_queue", { user: room });
    toSupervisors("visitor_leave_chat_for_supervisor", { visitor: room });
  },
  user_typing_send: (vid, d) => typing(vid, d, null, "user_typing_receive"),
  user_stop_typing_send: (vid, d) => typing(vid, d, null, "user_stop_typing_receive"),
};

function visitorMessage(vid, content) {
  if (!content || typeof content !== "object") throw "Missing/Invalid field: content";
  let c = chats.get(openChat.get(vid));
  if (!c) {
    c = { id: id(), visitor_id: vid, messages: [], staff: new Set(), status: "unclaimed", severity: 0, created_at: now() };
    chats.set(c.id, c); openChat.set(vid, c.id);
    const m = store(c, 1, null, content);
    toStaff("append_unclaimed_chats", { visitor: roomOf(vid), contents: [m] });
    queuePositions();
    return;
  }
  if (c.status === "offline") {
    c.status = "unclaimed";
    store(c, 1, null, content);
    toStaff("remove_visitor_offline_chat", { visitor: visitorObj(vid) });
    toStaff("append_unclaimed_chats", { visitor: roomOf(vid), contents: c.messages });
    queuePositions();
    return;
  }
  const m = store(c, 1, null, content);
  if (c.status === "unclaimed") { toStaff("visitor_unclaimed_msg", { visitor: roomOf(vid), content: m }); return; }
  toRoomStaff(c, "visitor_send", { visitor: roomOf(vid), content: m });
  toSupervisors("new_visitor_msg_for_supervisor", { visitor: roomOf(vid), content: m });
}

function typing(vid, d, staffId, event) {
  const target = staffId ? d && d.visitor : vid;
  const c = chats.get(openChat.get(target));
  if (!c) throw "The chat room is either closed or doesn't exist.";
  if (staffId && !c.staff.has(staffId)) throw "You are not in this chat.";
  const payload = { visitor: visitorObj(target), staff: staffId ? pubStaff(staff.get(staffId)) : null };
  if (staffId) send(visitorConn.get(target), event, payload);
  toRoomStaff(c, event, payload, staffId);
}

function needVisitor(d) {
  if (!d || typeof d.visitor !== "string") throw "Missing/Invalid field: visitor";
  const c = chats.get(openChat.get(d.visitor));
  if (!c) throw "The chat room is either closed or doesn't exist.";
  return c;
}

const staffHandlers = {
  staff_join: (sid, d) => {
    const c = needVisitor(d);
    if (c.status !== "unclaimed" && c.status !== "offline") throw "This chat has already been claimed.";
    const wasOffline = c.status === "offline";
    c.status = "claimed"; c.staff.add(sid);
    store(c, 0, sid, { content: "join room" });
    const s = pubStaff(staff.get(sid));
    const room = roomOf(d.visitor);
    let next = null;
    if (wasOffline) {
      const offl = [...chats.values()].filter((x) => x.status === "offline");
      if (offl.length >= 15) next = roomOf(offl[14].visitor_id);
    }
    toStaff("staff_claim_chat", { staff: s, visitor: room, next_offline_unclaimed_visitor: next }, (x) => x.id !== sid);
    send(visitorConn.get(d.visitor), "staff_join_room", { staff: s });
    toSupervisors("agent_new_chat", { staff: s, visitor: room, contents: c.messages });
    queuePositions();
  },
  staff_msg: (sid, d) => {
    const c = needVisitor(d);
    if (!c.staff.has(sid)) throw "You are not in this chat.";
    if (!d.content || typeof d.content !== "object") throw "Missing/Invalid field: content";
    const m = store(c, 1, sid, d.content);
    const s = pubStaff(staff.get(sid));
    send(visitorConn.get(d.visitor), "staff_send", { staff: s, content: m });
    toRoomStaff(c, "staff_send", { staff: s, content: m }, sid);
    toSupervisors("new_staff_msg_for_supervisor", { staff: s, content: m, visitor: roomOf(d.visitor) });
  },
  staff_leave_room: (sid, d) => {
    const c = needVisitor(d);
    if (!c.staff.has(sid)) throw "You are not in this chat.";
    leaveRoom(sid, c);
  },
  take_over_chat: (sid, d) => {
    const me = staff.get(sid);
    if (me.role_id > 2) throw "Only supervisors and admins can take over chats.";
    const c = needVisitor(d);
    for (const other of c.staff) if (staff.get(other).role_id <= me.role_id) throw "A supervisor cannot take over a chat from a supervisor.";
    const room = roomOf(d.visitor);
    const payload = { staff: pubStaff(me), visitor: room };
    for (const other of c.staff) send(staffConn.get(other), "staff_being_taken_over_chat", payload);
    send(visitorConn.get(d.visitor), "staff_being_taken_over_chat", payload);
    c.staff = new Set([sid]); c.status = "claimed";
    store(c, 0, sid, { content: "take over room" });
    toSupervisors("staff_take_over_chat", { staff: pubStaff(me), visitor: roomOf(d.visitor) });
  },
  add_staff_to_chat: (sid, d) => {
    if (staff.get(sid).role_id > 2) throw "Only supervisors and admins can add staff to chats.";
    const c = needVisitor(d);
    const s = staff.get(d.staff);
    if (!s) throw "Missing/Invalid field: staff";
    c.staff.add(s.id); c.status = "claimed";
    const payload = { staff: pubStaff(s), visitor: roomOf(d.visitor) };
    send(visitorConn.get(d.visitor), "staff_being_added_to_chat", payload);
    toRoomStaff(c, "staff_being_added_to_chat", payload);
  },
  remove_staff_from_chat: (sid, d) => {
    if (staff.get(sid).role_id > 2) throw "Only supervisors and admins can remove staff from chats.";
    const c = needVisitor(d);
    if (!c.staff.has(d.staff)) throw "This staff is not in the chat.";
    const payload = { staff: pubStaff(staff.get(d.staff)), visitor: roomOf(d.visitor) };
    send(visitorConn.get(d.visitor), "staff_being_removed_from_chat", payload);
    toRoomStaff(c, "staff_being_removed_from_chat", payload);
    c.staff.delete(d.staff);
    if (!c.staff.size) { c.status = "unclaimed"; toStaff("append_unclaimed_chats", { visitor: roomOf(d.visitor), contents: c.messages }); queuePositions(); }
  },
  change_chat_priority: (sid, d) => {
    const c = needVisitor(d);
    if (!Number.isInteger(d.severity_level) || d.severity_level < 0) throw "Missing/Invalid field: severity_level";
    c.severity = d.severity_level;
    const i = flagged.indexOf(d.visitor); if (i >= 0) flagged.splice(i, 1);
    if (c.severity > 0) flagged.unshift(d.visitor);
    toSupervisors("chat_has_changed_priority_for_supervisor", { staff: pubStaff(staff.get(sid)), visitor: roomOf(d.visitor) });
  },
  user_typing_send: (sid, d) => typing(null, d, sid, "user_typing_receive"),
  user_stop_typing_send: (sid, d) => typing(null, d, sid, "user_stop_typing_receive"),
};

function leaveRoom(sid, c) {
  const s = pubStaff(staff.get(sid));
  const room = roomOf(c.visitor_id);
  c.staff.delete(sid);
  send(visitorConn.get(c.visitor_id), "staff_leave", { staff: s });
  toSupervisors("staff_leave_chat_for_supervisor", { staff: s, visitor: room });
  if (!c.staff.size) closeChat(c);
}

// ---- connect / disconnect ------------------------------------------------------------------------
function onConnect(ws, who, force) {
  const key = `${who.kind[0]}:${who.id}`;
  const conns = who.kind === "staff" ? staffConn : visitorConn;
  const old = conns.get(who.id);
  if (old && !force) {
    if (who.kind === "staff") send(ws, "staff_already_online", { staff: pubStaff(staff.get(who.id)) });
    else send(ws, "visitor_room_exists", { visitor: roomOf(who.id) });
    setTimeout(() => ws.close(4009, "already online"), 50);
    return false;
  }
  if (old) { old.replaced = true; old.close(4000, "replaced"); }
  conns.set(who.id, ws);
  const resumed = graceTimers.has(key) || !!old;
  clearTimeout(graceTimers.get(key)); graceTimers.delete(key);
  if (who.kind === "staff") {
    const all = [...chats.values()];
    send(ws, "staff_init", {
      online_users: [...staffConn.keys()].map((k) => pubStaff(staff.get(k))),
      online_visitors: [...visitorConn.keys()].map(visitorObj),
      unclaimed_chats: all.filter((c) => c.status === "unclaimed").map((c) => ({ visitor: roomOf(c.visitor_id), contents: c.messages })),
      offline_unclaimed_chats: all.filter((c) => c.status === "offline").slice(0, 15).map((c) => roomOf(c.visitor_id)),
      flagged_chats: flagged.slice(0, 15).filter((v) => openChat.has(v)).map(roomOf),
    });
    if (!resumed) toStaff("staff_goes_online", { staff: pubStaff(staff.get(who.id)) }, (s) => s.id !== who.id);
  } else {
    const c = chats.get(openChat.get(who.id));
    send(ws, "visitor_init", { staff: c && c.staff.size ? pubStaff(staff.get([...c.staff][0])) : null, contents: c ? c.messages : [] });
    if (!resumed) toStaff("visitor_goes_online", { visitor: roomOf(who.id) });
    queuePositions();
  }
  return true;
}

function onDisconnect(ws, who) {
  const conns = who.kind === "staff" ? staffConn : visitorConn;
  if (conns.get(who.id) !== ws) return;
  conns.delete(who.id);
  const key = `${who.kind[0]}:${who.id}`;
  graceTimers.set(key, setTimeout(() => {
    graceTimers.delete(key);
    if (conns.has(who.id)) return;
    if (who.kind === "staff") {
      for (const c of chats.values()) if (c.staff.has(who.id)) leaveRoom(who.id, c);
      toStaff("staff_goes_offline", { staff: pubStaff(staff.get(who.id)) });
    } else {
      toStaff("visitor_goes_offline", { visitor: visitorObj(who.id) });
      const c = chats.get(openChat.get(who.id));
      if (c && c.status === "unclaimed") { c.status = "offline"; toStaff("unclaimed_chat_to_offline", { visitor: visitorObj(who.id) }); queuePositions(); }
      else if (c && c.status === "claimed") { const room = roomOf(who.id); closeChat(c); toStaff("visitor_leave_queue", { user: room }); toSupervisors("visitor_leave_chat_for_supervisor", { visitor: room }); }
    }
  }, GRACE_MS));
}

// ---- HTTP ----------------------------------------------------------------------------------------
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json" };

function json(res, status, body) { res.writeHead(status, { "content-type": "application/json" }); res.end(body === undefined ? "" : JSON.stringify(body)); }
const err = (res, status, code, message) => json(res, status, { error: { code, message } });
function who(req) { const t = (req.headers.authorization || "").replace(/^Bearer /, ""); return tokens.get(t) || null; }
async function body(req) { let b = ""; for await (const c of req) b += c; try { return JSON.parse(b || "{}"); } catch { return null; } }
function issue(kind, id_) { const t = crypto.randomBytes(24).toString("hex"); tokens.set(t, { kind, id: id_ }); return t; }

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const p = url.pathname;
  res.setHeader("x-content-type-options", "nosniff");
  if (p === "/healthz") { res.writeHead(200, { "content-type": "text/plain" }); return res.end("ok"); }
  if (p === "/api/v1/auth/login" && req.method === "POST") {
    const b = await body(req);
    const s = [...staff.values()].find((x) => x.email.toLowerCase() === String(b && b.email).toLowerCase());
    if (!s || s.password !== b.password || s.disabled) return err(res, 401, "invalid_credentials", "The email or password is incorrect.");
    return json(res, 200, { access_token: issue("staff", s.id), expires_at: now() + 864e5, staff: pubStaff(s) });
  }
  if (p === "/api/v1/auth/logout" && req.method === "POST") { tokens.delete(req.headers.authorization); res.writeHead(204); return res.end(); }
  if (p === "/api/v1/visitors" && req.method === "POST") {
    const b = (await body(req)) || {};
    const v = { id: id(), name: b.name || `Visitor ${1000 + Math.floor(Math.random() * 9000)}`, email: b.email || null, is_anonymous: !b.name, disabled: false, created_at: now(), updated_at: null };
    visitors.set(v.id, v);
    return json(res, 201, { access_token: issue("visitor", v.id), expires_at: now() + 864e5 * 30, visitor: v });
  }
  if (p.startsWith("/api/")) {
    const w = who(req);
    if (!w) return err(res, 401, "unauthorized", "An access token is required in the Authorization header.");
    if (p === "/api/v1/me") return json(res, 200, w.kind === "staff" ? { kind: "staff", staff: pubStaff(staff.get(w.id)) } : { kind: "visitor", visitor: visitors.get(w.id) });
    const one = p.match(/^\/api\/v1\/chats\/([0-9a-f]{32})$/);
    if (one && w.kind === "staff") { const c = chats.get(one[1]); return c ? json(res, 200, { id: c.id, visitor_id: c.visitor_id, status: c.status === "ended" ? "ended" : "open" }) : err(res, 404, "not_found", "No such chat."); }
    const m = p.match(/^\/api\/v1\/chats\/([0-9a-f]{32})\/messages$/);
    if (m && w.kind === "staff") { const c = chats.get(m[1]); return c ? json(res, 200, { results: c.messages, next: null }) : err(res, 404, "not_found", "No such chat."); }
    if (p === "/api/v1/staff" || p.startsWith("/api/v1/staff/")) {
      if (w.kind !== "staff" || staff.get(w.id).role_id !== 1) return err(res, 403, "forbidden", "Only admins can manage staff accounts.");
      if (p === "/api/v1/staff" && req.method === "GET") return json(res, 200, { results: [...staff.values()].map(pubStaff) });
      if (p === "/api/v1/staff" && req.method === "POST") {
        const b = await body(req);
        if (!b || !b.email || !b.full_name || !b.password) return err(res, 400, "bad_request", "Missing/Invalid field: email");
        if ([...staff.values()].some((x) => x.email.toLowerCase() === b.email.toLowerCase())) return err(res, 409, "conflict", "A staff account with this email already exists.");
        return json(res, 201, pubStaff(addStaff(b)));
      }
      const s = staff.get(p.split("/").pop());
      if (!s) return err(res, 404, "not_found", "No such staff.");
      if (req.method === "PATCH") { const b = await body(req); Object.assign(s, b, { updated_at: now() }); return json(res, 200, pubStaff(s)); }
    }
    return err(res, 404, "not_found", "No such resource.");
  }
  // static files, as src/http/assets.rs
  if (p === "/") { res.writeHead(302, { location: "/console/" }); return res.end(); }
  if (p === "/console" || p === "/chat") { res.writeHead(302, { location: p + "/" }); return res.end(); }
  let rel = p.slice(1);
  if (rel.split("/").some((s) => s === ".." || s.startsWith("."))) return err(res, 404, "not_found", "No such resource.");
  if (rel === "setup") rel = "setup/index.html"; else if (rel === "" || rel.endsWith("/")) rel += "index.html";
  const file = path.join(WEB, rel);
  fs.readFile(file, (e, data) => {
    if (e) return err(res, 404, "not_found", "No such resource.");
    const embeddable = rel.startsWith("chat/");
    res.setHeader("content-type", TYPES[path.extname(file)] || "application/octet-stream");
    res.setHeader("cache-control", "no-cache");
    res.setHeader("content-security-policy", `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors ${embeddable ? "*" : "'none'"}`);
    if (!embeddable) res.setHeader("x-frame-options", "DENY");
    if (rel === "widget.js") res.setHeader("cross-origin-resource-policy", "cross-origin");
    res.writeHead(200); res.end(data);
  });
});

const wss = new WebSocketServer({ noServer: true });
server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname !== "/ws") return socket.destroy();
  const w = tokens.get(url.searchParams.get("token") || (req.headers.authorization || "").replace(/^Bearer /, ""));
  if (!w) { socket.write("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"); return socket.destroy(); }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (!onConnect(ws, w, url.searchParams.get("force") === "1")) return;
    ws.on("close", () => { if (!ws.replaced) onDisconnect(ws, w); });
    ws.on("message", (raw) => {
      let msg;
      try { msg = JSON.parse(raw); } catch { return ws.send(JSON.stringify({ ack: null, result: false, error_message: "The frame is not valid JSON." })); }
      const table = w.kind === "staff" ? staffHandlers : visitorHandlers;
      const h = table[msg.event];
      let result = true, error_message = null;
      try {
        if (!h) throw `Unknown event: ${msg.event}`;
        h(w.id, msg.data);
      } catch (e) { result = false; error_message = typeof e === "string" ? e : String(e); if (typeof e !== "string") console.error(e); }
      if (msg.id != null) ws.send(JSON.stringify({ ack: msg.id, result, error_message }));
    });
  });
});

server.listen(Number(PORT), HOST, () => console.log(`mock frontdesk on http://${HOST}:${PORT} (web: ${WEB})`));
