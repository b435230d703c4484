// A bare local-R2 write path, for comparison with the registry's push: a minimal worker (started with the
// Miniflare API, same workerd) whose only job is `env.B.put('x', request.body)`. Run as its own process by
// bench/run.mjs so its resident memory can be measured alone.
// Usage: node bench/bare-r2.mjs <persistDir>   → prints `url http://127.0.0.1:<port>` then `ready`.
import { Miniflare } from "miniflare";
import { serveUntilStopped } from "./lib/host.mjs";

const persist = process.argv[2];
if (!persist) {
  console.error("usage: node bench/bare-r2.mjs <persistDir>");
  process.exit(2);
}
const mf = new Miniflare({
  modules: true,
  // PUT: the bare put to measure. GET: reads the object back (the simulator's own read speed, for comparison
  // with the registry's blob GET), typed so the runtime does not compress it.
  script: `export default { async fetch(r, env) {
    if (r.method === "GET") {
      const o = await env.B.get("x");
      if (!o) return new Response("none", { status: 404 });
      return new Response(o.body, { headers: { "Content-Type": "application/octet-stream", "Content-Length": String(o.size) } });
    }
    await env.B.put('x', r.body); return new Response('ok');
  } }`,
  r2Buckets: ["B"],
  r2Persist: persist,
  compatibilityDate: "2026-04-01",
  host: "127.0.0.1",
  port: 0,
  handleRuntimeStdio: () => undefined,
});
const url = await mf.ready;
serveUntilStopped(mf, [`url ${url.href.replace(/\/$/, "")}`]);
