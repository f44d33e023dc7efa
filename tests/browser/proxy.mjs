// A loopback TCP proxy for network faults in the browser suite: pages that load the server
// through it can have their network cut and restored while the server keeps running.
//
//   const p = await startProxy(serverPort);   // p.url is http://127.0.0.1:<port>
//   p.cut();       // every open connection is dropped and new ones are refused (a dead link)
//   p.blackhole(); // open connections stay but nothing passes either way (a sleeping phone)
//   p.restore();   // connections pass again (new ones; a blackholed one flows again)
//   await p.close();
import net from "node:net";

export async function startProxy(targetPort, targetHost = "127.0.0.1") {
  let mode = "open"; // "open" | "cut" | "blackhole"
  const pairs = new Set();
  const server = net.createServer((client) => {
    if (mode === "cut") { client.destroy(); return; }
    const upstream = net.connect(targetPort, targetHost);
    const pair = { client, upstream, held: [] };
    pairs.add(pair);
    const forward = (from, to, dir) => from.on("data", (chunk) => {
      if (mode === "blackhole") { pair.held.push([dir, chunk]); return; }
      to.write(chunk);
    });
    forward(client, upstream, "up");
    forward(upstream, client, "down");
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on("error", end); upstream.on("error", end);
    client.on("close", end); upstream.on("close", end);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get mode() { return mode; },
    cut() {
      mode = "cut";
      for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); }
      pairs.clear();
    },
    blackhole() { mode = "blackhole"; },
    restore() {
      mode = "open";
      // What a blackholed link held back flows again, in order (a phone that wakes up).
      for (const p of pairs) {
        for (const [dir, chunk] of p.held) (dir === "up" ? p.upstream : p.client).write(chunk);
        p.held = [];
      }
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
