// The runtime's ceiling for a manifest request: a trivial worker that answers every GET/HEAD with the same
// manifest bytes from memory (Content-Type, Content-Length, Docker-Content-Digest, as the registry sends them),
// in the same runtime (Miniflare/workerd) and behind the same HTTP front (scripts/front.mjs `startFront`) as our
// system. No storage, no auth, no routing: what is left is the runtime and the front. Run as its own process by
// bench/sections/read-path.mjs.
// Usage: node bench/ceiling.mjs <manifestFile> <digest> <mediaType>  → prints `url http://127.0.0.1:<port>` then `ready`.
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { serveUntilStopped } from "./lib/host.mjs";
import { startFront } from "../scripts/front.mjs";

const [file, digest, mediaType] = process.argv.slice(2);
if (!file || !digest || !mediaType) {
  console.error("usage: node bench/ceiling.mjs <manifestFile> <digest> <mediaType>");
  process.exit(2);
}
const manifest = readFileSync(file, "utf8");

const mf = new Miniflare({
  modules: true,
  script: `let bytes;
export default {
  fetch(request, env) {
    bytes ??= new TextEncoder().encode(env.MANIFEST);
    const headers = {
      "Content-Type": env.MEDIA_TYPE,
      "Content-Length": String(bytes.byteLength),
      "Docker-Content-Digest": env.DIGEST,
    };
    return new Response(request.method === "HEAD" ? null : bytes, { headers });
  },
};`,
  bindings: { MANIFEST: manifest, DIGEST: digest, MEDIA_TYPE: mediaType },
  compatibilityDate: "2026-04-01",
  host: "127.0.0.1",
  port: 0,
  handleRuntimeStdio: () => undefined,
});
const entry = await mf.ready;
// the URL as a string: the front may run in a worker thread (its options are copied across)
const front = await startFront({ host: "127.0.0.1", port: 0, target: entry.href });
serveUntilStopped(mf, [`url http://127.0.0.1:${front.address().port}`], () => new Promise((r) => front.close(() => r())));
