// 11. Storage operations of a warm anonymous pull of a 3-layer image (manifest GET by tag, config GET, 3 layer
// GETs; and a manifest GET by digest beside it) per request, through the edge path and the origin path
// (`Cache-Control: no-cache`), with X-Read-Path; and the push's cost for the edge index: KV writes per manifest
// PUT (by digest, by tag, tag moved). Metrics-on instance of ours with token auth on (STORAGE_METRICS=on).
// The measured counts go to results.ops (see bench/README.md "The `ops` key").
import { randomBytes } from "node:crypto";

import { CFG, children, say, section, targetMissed } from "../lib/context.mjs";
import { anonymousPull, robotPush } from "../lib/auth.mjs";
import { MiB, randomImage, sha256, withAnnotations } from "../lib/files.mjs";
import { fmtInt, heading, table } from "../lib/format.mjs";
import { MANIFEST_TYPE } from "../lib/http.mjs";
import { cnt, costOps, opsOf, pushSteps, stepped } from "../lib/ops.mjs";
import { stopChild } from "../lib/proc.mjs";
import { startOurs } from "../lib/systems.mjs";

const REPO = "bench/pull3";
const TAG = "v1";

/**
 * The pull's requests (plus the manifest GET by digest, first when `byDigestFirst`), each with its ops and
 * X-Read-Path.
 */
async function pull(base, img, headers, { byDigestFirst = false } = {}) {
  const v2 = `${base}/v2/${REPO}`;
  const accept = { Accept: MANIFEST_TYPE, ...headers };
  const rows = [];
  const one = async (key, label, url, opts, check) => {
    const s = await stepped(label, url, { timeoutMs: 120_000, ...opts }, 200);
    check?.(s.res);
    rows.push({ key, label, ...opsOf([s]), readPath: s.readPath, steps: undefined });
  };
  const manifestCheck = (r) => {
    if (sha256(r.body) !== img.manifestDigest) throw new Error(`manifest GET: body digest ${sha256(r.body)}, expected ${img.manifestDigest}`);
  };
  const byDigest = () =>
    one("manifestByDigest", "manifest GET by digest (beside the pull)", `${v2}/manifests/${img.manifestDigest}`, { headers: accept }, manifestCheck);
  if (byDigestFirst) await byDigest();
  await one("manifestByTag", "manifest GET by tag", `${v2}/manifests/${TAG}`, { headers: accept }, manifestCheck);
  await one("config", `blob GET config (${fmtInt(img.config.body.length)} B)`, `${v2}/blobs/${img.config.digest}`, { headers }, null);
  for (const [i, l] of img.layers.entries()) {
    await one(`layer${i + 1}`, `blob GET layer ${i + 1} (${fmtInt(l.body.length)} B)`, `${v2}/blobs/${l.digest}`, { headers }, (r) => {
      if (r.size !== l.body.length) throw new Error(`layer ${i + 1}: ${r.size} bytes, expected ${l.body.length}`);
    });
  }
  if (!byDigestFirst) await byDigest();
  return rows;
}

/**
 * Edge-path targets of one row: 0 DO calls, <= 1 KV read per manifest request, R2 reads only for the bytes served
 * (at most one R2 class B read, the GET of the content itself: a blob's, or a manifest's when kept in R2).
 */
function targetOf(r) {
  const manifest = r.key.startsWith("manifest");
  const miss = [];
  if ((r.doCalls ?? 0) > 0) miss.push(`DO ${r.doCalls}`);
  if (manifest && (r.kvRead ?? 0) > 1) miss.push(`KV r ${r.kvRead}`);
  if (r.classB > 1) miss.push(`R2 B ${r.classB}`);
  if (r.classB > 0 && r.read === 0) miss.push("R2 B without bytes read");
  return miss;
}

async function pullOps() {
  const start = async () => {
    const sys = await startOurs("pull-ops", { metrics: true, auth: true }); // same label: same state dir
    children.oursPullOps = sys.cp;
    return sys;
  };
  let sys = await start();
  try {
    let base = sys.base;
    const push = await robotPush(sys, REPO);
    const img = randomImage(CFG.imageLayerSize, 3);
    // the pushes: blobs (monolithic, one more chunked), then the manifest PUTs of the index-cost table
    const octets = { "Content-Type": "application/octet-stream", ...push };
    const mono = [];
    for (const b of [img.config, ...img.layers])
      mono.push(await stepped("POST ?digest", `${base}/v2/${REPO}/blobs/uploads/?digest=${b.digest}`, { method: "POST", headers: octets, body: b.body }, 201));
    const extra = randomBytes(CFG.chunkedSize);
    const chunked = opsOf(await pushSteps(base, REPO, extra, sha256(extra), { chunked: true, auth: push }));
    const m2 = withAnnotations(img.manifest, { "org.example.bench": "second manifest of the same blobs" });
    const put = (ref, body) => stepped("PUT manifest", `${base}/v2/${REPO}/manifests/${ref}`, { method: "PUT", headers: { "Content-Type": MANIFEST_TYPE, ...push }, body }, 201);
    const index = {
      byTag: { label: "manifest PUT by tag (new tag)", ...opsOf([await put(TAG, img.manifest)]) },
      byDigest: { label: "manifest PUT by digest (no tag)", ...opsOf([await put(sha256(m2), m2)]) },
      tagMoved: { label: "manifest PUT by tag (tag moved to another manifest)", ...opsOf([await put(TAG, m2)]) },
    };
    // the tag now names m2 (same blobs): that is what the pull gets
    const pulled = { ...img, manifest: m2, manifestDigest: sha256(m2) };

    // a warm anonymous pull: one pull first, then the measured ones: edge (this isolate has served the image:
    // its in-isolate cache answers), origin (no-cache)
    let anon = await anonymousPull(base, REPO);
    await pull(base, pulled, anon);
    const edgeIsolateHit = await pull(base, pulled, anon);
    const origin = await pull(base, pulled, { ...anon, "Cache-Control": "no-cache" });
    // then the edge path from a fresh isolate (the system restarted on the same state: the index is warm, the
    // isolate's cache empty), once for the pull and once more for the manifest GET by digest as a first request
    const fresh = async (opts) => {
      await stopChild(sys.cp);
      sys = await start();
      base = sys.base;
      anon = await anonymousPull(base, REPO);
      return pull(base, pulled, anon, opts);
    };
    const a = await fresh();
    const b = await fresh({ byDigestFirst: true });
    const edge = [...a.filter((r) => r.key !== "manifestByDigest"), b.find((r) => r.key === "manifestByDigest")];
    for (const [rows, what] of [
      [edge, "fresh isolate"],
      [edgeIsolateHit, "warm isolate"],
    ]) {
      for (const r of rows) {
        r.targetMissed = targetOf(r);
        if (r.targetMissed.length)
          targetMissed(`warm pull, edge path (${what}), ${r.label}: ${r.targetMissed.join(", ")} (target: DO 0, KV r <= 1 per manifest, R2 B only for the bytes served)`);
      }
    }
    return {
      image: { repo: `${REPO}:${TAG}`, layerSize: CFG.imageLayerSize, manifestDigest: pulled.manifestDigest },
      edge,
      edgeIsolateHit,
      origin,
      push: { blobMonolithic: { ...opsOf([mono[1]]), bytes: img.layers[0].body.length }, blobChunked: { ...chunked, bytes: extra.length }, index },
    };
  } finally {
    await stopChild(sys.cp);
    children.oursPullOps = null;
  }
}

const opsCells = (r) => [cnt(r.doCalls), cnt(r.kvRead), cnt(r.kvWrite), fmtInt(r.classA), fmtInt(r.classB), fmtInt(r.read)];

export async function pullOpsSection() {
  say(
    heading(
      "11. storage operations of a warm anonymous pull, and the push's index cost (ours, metrics on, token auth on)",
      `image ${REPO}:${TAG}: config + 3 x ${fmtInt(CFG.imageLayerSize / MiB)} MiB layers, pushed by the local robot; pulled with an anonymous Bearer token,
once to warm, then measured: edge path (plain requests) in the same isolate (its in-isolate cache warm), origin path
(Cache-Control: no-cache), then the edge path from a fresh isolate (system restarted on the same state; the manifest
GET by digest as the first request of a second restart);
X-Storage-Ops per request (DO = Durable Object calls, KV r/w = KV reads/writes, R2 A/B = class A/B, R2 read = bytes;
"–" = field absent from this build's header), path = X-Read-Path
edge-path target: DO 0, KV r <= 1 per manifest request, R2 reads only for the bytes served (R2 B <= 1, with bytes read)`,
    ),
  );
  const s = await section("pullOps", () => pullOps(), () => children.oursPullOps?.tail);
  if (!s) return null;
  for (const [k, title] of [
    ["edge", "warm pull, edge path, fresh isolate"],
    ["edgeIsolateHit", "warm pull, edge path, warm isolate"],
    ["origin", "warm pull, origin path (no-cache)"],
  ]) {
    const edge = k !== "origin";
    const tbl = [[title, "path", "DO", "KV r", "KV w", "R2 A", "R2 B", "R2 read", ...(edge ? ["target"] : [])]];
    for (const r of s[k]) tbl.push([r.label, r.readPath ?? "–", ...opsCells(r), ...(edge ? [r.targetMissed.length ? `MISSED: ${r.targetMissed.join(", ")}` : "ok"] : [])]);
    say(table(tbl).replace(/^/gm, "  "));
  }
  const tbl = [["push: index cost per manifest PUT", "DO", "KV r", "KV w", "R2 A", "R2 B", "R2 read"]];
  for (const r of Object.values(s.push.index)) tbl.push([r.label, ...opsCells(r)]);
  tbl.push([`blob push, monolithic POST ?digest= (${fmtInt(s.push.blobMonolithic.bytes)} B)`, ...opsCells(s.push.blobMonolithic)]);
  tbl.push([`blob push, POST + chunked PATCH + PUT (${fmtInt(s.push.blobChunked.bytes)} B)`, ...opsCells(s.push.blobChunked)]);
  say(table(tbl).replace(/^/gm, "  "));
  say("  KV w of a manifest PUT = the writes the push queued for the edge index (tag moved: the second PUT of the tag)");
  return s;
}

/** `ops` of results/latest.json: per-request counts for the cost model (bench/README.md "The `ops` key"). */
export function opsKey(s) {
  const byKey = (rows) => Object.fromEntries(rows.map((r) => [r.key, r]));
  const pullOf = (rows) => {
    const k = byKey(rows);
    return { manifestByTag: costOps(k.manifestByTag), manifestByDigest: costOps(k.manifestByDigest), blob: { ...costOps(k.layer1), bytes: k.layer1.read } };
  };
  const fields = new Set([...s.edge, ...s.edgeIsolateHit, ...s.origin, ...Object.values(s.push.index)].flatMap((r) => r.fields ?? []));
  return {
    source: "bench section 11: metrics-on instance (STORAGE_METRICS=on), token auth on, X-Storage-Ops per request",
    absentFields: ["do", "kv-read", "kv-write", "r2-a", "r2-b"].filter((f) => !fields.has(f)),
    pull: { edge: pullOf(s.edge), edgeIsolateHit: pullOf(s.edgeIsolateHit), origin: pullOf(s.origin) },
    push: {
      manifestByTag: costOps(s.push.index.byTag),
      manifestByDigest: costOps(s.push.index.byDigest),
      manifestTagMoved: costOps(s.push.index.tagMoved),
      blobMonolithic: { ...costOps(s.push.blobMonolithic), bytes: s.push.blobMonolithic.bytes },
      blobChunked: { ...costOps(s.push.blobChunked), bytes: s.push.blobChunked.bytes },
    },
  };
}

export function pullOpsSummary(s) {
  const sum = (rows) => rows.filter((r) => r.key !== "manifestByDigest");
  const tot = (rows, f) => sum(rows).reduce((a, r) => (r[f] == null ? a : (a ?? 0) + r[f]), null);
  const str = (rows) => `DO ${cnt(tot(rows, "doCalls"))}, KV r ${cnt(tot(rows, "kvRead"))}, R2 B ${fmtInt(tot(rows, "classB"))}`;
  return [
    ["warm pull (5 requests), edge path, fresh isolate: ops", str(s.edge), "n/a", ""],
    ["warm pull (5 requests), edge path, warm isolate: ops", str(s.edgeIsolateHit), "n/a", ""],
    ["warm pull (5 requests), origin path: ops", str(s.origin), "n/a", ""],
    ["manifest PUT by tag / by digest / tag moved: KV writes", ["byTag", "byDigest", "tagMoved"].map((k) => cnt(s.push.index[k].kvWrite)).join(" / "), "n/a", ""],
  ];
}
