// What the browser suites that start a server of their own share (routing, console14,
// widget14): a free port, stopping their server, a real PNG, and running one suite alone
// (`node <suite>.mjs --bin path/to/frontdesk`) with the same check/newPage/shot the journey
// gives it.

import net from "node:net";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

export const WAIT = 15000;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () => new Promise((resolve) => {
  const srv = net.createServer();
  srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});

/** Stops a suite's server: SIGTERM, then SIGKILL if it is still there after 5 s. */
export async function stopServer(server) {
  if (server.exitCode != null) return;
  const done = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await Promise.race([done, sleep(5000)]);
  if (server.exitCode == null) server.kill("SIGKILL");
}

/**
 * A real PNG of w×h pixels, so the server's type sniffing and the browser's decoder accept it:
 * one [r, g, b] colour, or `pixel(x, y)` giving each pixel's.
 */
export function png(w, h, pixel) {
  const at = typeof pixel === "function" ? pixel : () => pixel;
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < h; y++) { rows.push(0); for (let x = 0; x < w; x++) rows.push(...at(x, y)); }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(Buffer.from(rows))), chunk("IEND", Buffer.alloc(0))]);
}

/** Whether the module at `metaUrl` is the script node was started with. */
export const isMain = (metaUrl) =>
  Boolean(process.argv[1]) && path.resolve(process.argv[1]) === path.resolve(new URL(metaUrl).pathname);

/**
 * Runs one suite alone: `checks({check, assert, newPage, BIN, shot})`, then "no page errors".
 * A failed step skips the dependent steps after it (`{independent: true}` steps still run).
 */
export async function runAlone(name, checks) {
  const { chromium } = await import("playwright-core");
  const argv = process.argv.slice(2);
  const i = argv.indexOf("--bin");
  const BIN = i >= 0 ? path.resolve(argv[i + 1]) : null;
  const HERE = path.dirname(new URL(import.meta.url).pathname);
  const SHOTS = process.env.SCREENSHOTS || path.resolve(HERE, "../../screenshots");
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  let passed = 0; let failed = 0; let broken = false;
  const pageErrors = [];
  const check = async (label, fn, { independent = false } = {}) => {
    if (broken && !independent) { failed++; console.log(`SKIP ${label} (an earlier step failed)`); return; }
    const t0 = Date.now();
    try { await fn(); passed++; console.log(`ok   ${label} (${Date.now() - t0} ms)`); } catch (e) {
      failed++; if (!independent) broken = true;
      console.log(`FAIL ${label}\n     ${String((e && e.message) || e).split("\n").slice(0, 6).join("\n     ")}`);
    }
  };
  const assert = (c, m) => { if (!c) throw new Error(m); };
  const newPage = async (label, viewport = { width: 1280, height: 800 }, extra = {}) => {
    const ctx = await browser.newContext({ viewport, ...extra });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on("dialog", (d) => d.accept().catch(() => {}));
    page.on("pageerror", (e) => pageErrors.push(`${label}: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error" && !/favicon|Failed to load resource|WebSocket connection to/.test(m.text())) pageErrors.push(`${label}: console: ${m.text()}`); });
    return page;
  };
  const shot = (page, file) => page.screenshot({ path: path.join(SHOTS, file) });
  try {
    await checks({ check, assert, newPage, BIN, shot });
    await check(`${name}: no page errors`, async () => assert(pageErrors.length === 0, pageErrors.join("\n")), { independent: true });
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

/**
 * A server of its own for a suite: a fresh data directory, `users` ({email, name, role,
 * password}) added with the CLI, `serve` on a free port with its log in the data directory;
 * resolves once /healthz answers (or after 10 s; `up` says which).
 */
export async function ownServer(BIN, name, users = []) {
  const { spawn, execFileSync } = await import("node:child_process");
  const os = await import("node:os");
  const DATA = fs.mkdtempSync(path.join(os.tmpdir(), `frontdesk-${name}-`));
  const PORT = await freePort();
  const BASE = `http://127.0.0.1:${PORT}`;
  const log = path.join(DATA, "server.log");
  for (const u of users) {
    execFileSync(BIN, ["user", "add", "--email", u.email, "--name", u.name, "--role", u.role, "--password", u.password, "--data", DATA],
      { stdio: ["ignore", "ignore", "inherit"] });
  }
  const fd = fs.openSync(log, "a");
  const server = spawn(BIN, ["serve", "--listen", `127.0.0.1:${PORT}`, "--data", DATA], { stdio: ["ignore", fd, fd] });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    try { up = (await fetch(`${BASE}/healthz`)).ok; } catch { await sleep(100); }
  }
  return { DATA, BASE, log, server, up };
}

/** Checks that form one chain under `prefix`: after a failed step, the rest say they were skipped. */
export function chained(runCheck, prefix) {
  let broken = false;
  return (name, fn) => runCheck(`${prefix}: ${name}`, async () => {
    if (broken) throw new Error("skipped: an earlier step of this chain failed");
    try { await fn(); } catch (e) { broken = true; throw e; }
  }, { independent: true });
}
