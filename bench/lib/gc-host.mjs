// Section 13's system, run as its own process (so its tree's memory is measured alone): one Miniflare (workerd)
// with the registry worker as built (workers/registry/dist, the wrangler.toml config, its Durable Objects, R2
// bucket and KV, no token auth, the admin API on) and a small seed worker whose Durable Object bindings are the
// registry's classes and which shares its R2 bucket: it writes the seeded registry through the storage layer
// (R2 puts, BlobIndex.commit, RepositoryIndex.linkBlob / putManifest by JS RPC), in parallel, without HTTP pushes.
// Usage: node bench/lib/gc-host.mjs <persistDir> <adminToken> [seed]
//   → prints `registry <url>`, `seed <url>`, then `ready`. `seed`: the registry without its edge index (KV), so
//   seeding does not also queue a KV write per link, manifest and tag (the local KV simulator costs ~2 ms a write);
//   the runs are then made by a second instance on the same state with the edge index, as configured.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { serveUntilStopped } from "./host.mjs";
import { ROOT, WORKERS } from "../../scripts/workers.mjs";

const [persist, adminToken, mode] = process.argv.slice(2);
if (!persist || !adminToken) {
  console.error("usage: node bench/lib/gc-host.mjs <persistDir> <adminToken>");
  process.exit(2);
}

// The seed worker. POST /blobs [{d, s, l, k}]: R2 put of `l` repeated to s bytes at key k, then the blob index's
// commit. POST /repos [{name, links: [{d, s, k}], manifests: [{d, json, refs, tag}]}]: the links, then the manifests
// (their references checked by the index as a push's are). POST /pending [names]: edge-index keys still queued.
// GET /stats: rows of the blob index, R2 objects under data/, repositories in the catalog.
const SEED = `
const content = (l, s) => l.repeat(Math.ceil(s / l.length)).slice(0, s);
const shard = (env, d) => env.BLOB_INDEX.get(env.BLOB_INDEX.idFromName("blobs-" + d.slice(7, 9)));
const repo = (env, name) => env.REPOSITORY_INDEX.get(env.REPOSITORY_INDEX.idFromName(name));
const enc = new TextEncoder();
export default {
  async fetch(req, env) {
    const path = new URL(req.url).pathname;
    const body = req.method === "POST" ? await req.json() : null;
    if (path === "/blobs") {
      await Promise.all(body.map(async (b) => {
        await env.REGISTRY_BUCKET.put(b.k, content(b.l, b.s));
        const { duplicate } = await shard(env, b.d).commit(b.d, { size: b.s, segments: [{ key: b.k, size: b.s }] });
        if (duplicate) throw new Error("duplicate blob " + b.d);
      }));
      return Response.json({ ok: body.length });
    }
    if (path === "/repos") {
      await Promise.all(body.map(async (r) => {
        const stub = repo(env, r.name);
        await Promise.all(r.links.map((b) => stub.linkBlob(b.d, { size: b.s, segments: [{ key: b.k, size: b.s }] })));
        await Promise.all(r.manifests.map(async (m) => {
          const bytes = enc.encode(m.json);
          const w = await stub.putManifest(r.name, { digest: m.d, mediaType: "application/vnd.oci.image.manifest.v1+json", size: bytes.byteLength, bytes,
            references: { blobs: m.refs, manifests: [] } }, m.tag ?? undefined);
          if (w.missing || w.refused) throw new Error("putManifest " + r.name + "@" + m.d + ": " + JSON.stringify(w));
        }));
      }));
      return Response.json({ ok: body.length });
    }
    if (path === "/pending") {
      const n = await Promise.all(body.map((name) => repo(env, name).edgePending()));
      return Response.json({ pending: n.reduce((a, b) => a + b, 0) });
    }
    if (path === "/stats") {
      const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
      const rows = await Promise.all(hex.map((h) => env.BLOB_INDEX.get(env.BLOB_INDEX.idFromName("blobs-" + h)).count()));
      let objects = 0, bytes = 0, cursor;
      do {
        const page = await env.REGISTRY_BUCKET.list({ prefix: "data/", limit: 1000, cursor });
        objects += page.objects.length;
        for (const o of page.objects) bytes += o.size;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      const catalog = env.CATALOG.get(env.CATALOG.idFromName("catalog"));
      let repositories = 0, last, more = true;
      while (more) {
        const page = await catalog.list(1000, last);
        repositories += page.items.length;
        last = page.items[page.items.length - 1];
        more = page.more;
      }
      return Response.json({ blobRows: rows.reduce((a, b) => a + b, 0), objects, bytes, repositories });
    }
    return new Response("not found", { status: 404 });
  },
};`;

const reg = WORKERS[0];
const dist = path.join(ROOT, reg.dist);
const fromConfig = JSON.parse(readFileSync(path.join(dist, "miniflare.json"), "utf8"));
if (mode === "seed") delete fromConfig.kvNamespaces.EDGE_INDEX;
const host = "127.0.0.1";
const mf = new Miniflare({
  host,
  port: 0,
  defaultPersistRoot: persist,
  r2Persist: path.join(persist, "r2"),
  kvPersist: path.join(persist, "kv"),
  durableObjectsPersist: path.join(persist, "do"),
  workers: [
    {
      ...fromConfig,
      name: reg.worker,
      modules: true,
      scriptPath: path.join(dist, "index.js"),
      modulesRoot: dist,
      bindings: { ...fromConfig.bindings, AUTH_REALM: "", WRITE_ACCESS: "closed", STORAGE_METRICS: "off", ADMIN_TOKEN: adminToken },
      // token auth is off, so the auth worker is never called: its binding points at the seed worker
      serviceBindings: { AUTH: "gc-seed" },
    },
    {
      name: "gc-seed",
      modules: true,
      script: SEED,
      compatibilityDate: fromConfig.compatibilityDate,
      durableObjects: {
        REPOSITORY_INDEX: { className: "RepositoryIndex", scriptName: reg.worker },
        BLOB_INDEX: { className: "BlobIndex", scriptName: reg.worker },
        CATALOG: { className: "CatalogIndex", scriptName: reg.worker },
      },
      r2Buckets: { REGISTRY_BUCKET: fromConfig.r2Buckets.REGISTRY_BUCKET.id },
      unsafeDirectSockets: [{ host, port: 0 }],
    },
  ],
  // the runtime's output (uncaught errors) goes to this process's, which the bench keeps the tail of
});
const entry = await mf.ready;
serveUntilStopped(mf, [`registry ${entry.href.replace(/\/$/, "")}`, `seed ${(await mf.unsafeGetDirectURL("gc-seed")).href.replace(/\/$/, "")}`]);
