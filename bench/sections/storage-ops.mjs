// 7. Storage operations per request on a metrics-on instance of ours (STORAGE_METRICS=on, no token auth):
// pushes (bytes written once, none read back), manifest and blob reads, a whole image.
import { randomBytes } from "node:crypto";

import { anomaly, CFG, children, NA, note, results, say, section, SMALL, SMALL_REPO, tailLines } from "../lib/context.mjs";
import { MiB, randomImage, sha256 } from "../lib/files.mjs";
import { fmtInt, heading, table } from "../lib/format.mjs";
import { MANIFEST_TYPE } from "../lib/http.mjs";
import { opsOf, pushSteps, stepped } from "../lib/ops.mjs";
import { stopChild } from "../lib/proc.mjs";
import { startOurs } from "../lib/systems.mjs";

async function storageOps() {
  const sys = await startOurs("metrics", { metrics: true });
  children.oursMetrics = sys.cp;
  const base = sys.base;
  const [config, layer] = SMALL.blobs;
  const accept = { Accept: MANIFEST_TYPE };
  const rows = {};
  const failures = [];
  const measure = async (key, label, fn, pushed) => {
    try {
      rows[key] = { label, ...(pushed != null ? { push: true, blobBytes: pushed } : {}), ...opsOf(await fn()) };
    } catch (e) {
      rows[key] = { label, error: e.message.split("\n")[0], steps: [] };
      failures.push(`"${label}": ${rows[key].error}`);
    }
  };
  const octets = { "Content-Type": "application/octet-stream" };
  const monolithic = (repo, blob) =>
    stepped("POST ?digest", `${base}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, { method: "POST", headers: octets, body: blob.body }, 201);
  const manifestPut = (url, body) => stepped("PUT manifest", url, { method: "PUT", headers: { "Content-Type": MANIFEST_TYPE }, body }, 201);

  // seed the small image; the monolithic POSTs are measured too (with POST+PATCH+PUT as a fallback for seeding)
  await measure("monolithicSmall", `blob push, monolithic POST ?digest= (${layer.body.length} B)`, async () => [await monolithic(SMALL_REPO, layer)], layer.body.length);
  const seedOne = async (blob) => {
    try {
      await monolithic(SMALL_REPO, blob);
    } catch {
      await pushSteps(base, SMALL_REPO, blob.body, blob.digest).catch((e) => failures.push(`seeding ${blob.digest.slice(0, 19)}: ${e.message.split("\n")[0]}`));
    }
  };
  if (rows.monolithicSmall.error) await seedOne(layer);
  await seedOne(config);
  const small = `${base}/v2/${SMALL_REPO}`;
  await measure("manifestPut", `manifest PUT by tag (${SMALL.manifest.length} B)`, async () => [await manifestPut(`${small}/manifests/latest`, SMALL.manifest)], SMALL.manifest.length);
  await measure("manifestGetTag", "manifest GET by tag", async () => [await stepped("GET", `${small}/manifests/latest`, { headers: accept }, 200)]);
  await measure("manifestGetDigest", "manifest GET by digest", async () => [await stepped("GET", `${small}/manifests/${SMALL.manifestDigest}`, { headers: accept }, 200)]);
  await measure("manifestHeadDigest", "manifest HEAD by digest", async () => [
    await stepped("HEAD", `${small}/manifests/${SMALL.manifestDigest}`, { method: "HEAD", headers: accept }, 200),
  ]);
  await measure("blobGetSmall", `blob GET (small, ${layer.body.length} B)`, async () => [await stepped("GET", `${small}/blobs/${layer.digest}`, {}, 200)]);
  await measure("blobHeadSmall", "blob HEAD (small)", async () => [await stepped("HEAD", `${small}/blobs/${layer.digest}`, { method: "HEAD" }, 200)]);

  const one = randomBytes(CFG.pushBlobSize);
  await measure("blobPush", `blob push POST+PATCH+PUT (${CFG.pushBlobSize / MiB} MiB, Content-Length)`, () => pushSteps(base, "bench/ops", one, sha256(one)), one.length);
  const big = randomBytes(CFG.chunkedSize);
  await measure(
    "blobPushChunked",
    `blob push POST+PATCH+PUT (${CFG.chunkedSize / MiB} MiB, chunked PATCH)`,
    () => pushSteps(base, "bench/ops", big, sha256(big), { chunked: true }),
    big.length,
  );

  // whole image: config + 3 layers (POST/PATCH/PUT each) + manifest PUT
  const img = randomImage(CFG.imageLayerSize, 3);
  await measure(
    "imagePush",
    `image push (config + 3 x ${CFG.imageLayerSize / MiB} MiB layers + manifest)`,
    async () => {
      const steps = [];
      for (const b of [img.config, ...img.layers]) steps.push(...(await pushSteps(base, "bench/image3", b.body, b.digest)));
      steps.push(await manifestPut(`${base}/v2/bench/image3/manifests/v1`, img.manifest));
      return steps;
    },
    img.bytes,
  );

  if (failures.length) {
    const log = sys.cp.tail;
    const cause = /message: '([^']+)'/.exec(log)?.[1] ?? /Error[^\n]*/.exec(log)?.[0] ?? "no error in its log";
    const failed = Object.values(rows).filter((r) => r.error).length;
    anomaly(
      `ours (metrics on, STORAGE_METRICS=on): ${failures.length} request sequences failed (measured rows failed: ${failed} of ${Object.keys(rows).length}); first: ${failures[0]}; runtime log: ${cause}`,
    );
    say(`  ${failures.length} failures; last lines of the metrics instance's log:\n${tailLines(log, 12)}`);
    results.storageOpsFailures = { failures, log };
  }
  for (const r of Object.values(rows)) {
    if (r.error) continue;
    if (!r.present) anomaly(`ours (metrics on): no X-Storage-Ops header on "${r.label}"`);
    if (r.push) {
      r.writtenRatio = r.written / r.blobBytes;
      // a push of >= 1 MiB must write its bytes once and read none back; small fixed costs (upload state,
      // records of a few hundred bytes) are reported as notes, they dominate only tiny blobs and manifests
      const isBig = r.blobBytes >= MiB;
      if (r.present && r.writtenRatio > 1.01)
        (isBig ? anomaly : note)(`ours: ${r.label}: wrote ${r.writtenRatio.toFixed(3)}x the pushed bytes (${fmtInt(r.written - r.blobBytes)} B extra; target 1.0)`);
      if (r.present && r.read > 0)
        (isBig && r.read > r.blobBytes / 100 ? anomaly : note)(`ours: ${r.label}: read ${fmtInt(r.read)} B from R2 during the push (target 0)`);
    }
  }
  await stopChild(sys.cp);
  children.oursMetrics = null;
  return rows;
}

export async function storageOpsSection() {
  say(
    heading(
      "7. storage operations per request (ours, metrics-on instance; distribution: n/a)",
      "from X-Storage-Ops; DO = Durable Object calls, KV r/w = KV reads/writes (when the build reports them), class A = R2 writes/lists,\nclass B = R2 reads/heads; pushes: written/pushed bytes (target 1.00) and bytes read (target 0)",
    ),
  );
  const s7 = await section("storageOps", () => storageOps(), () => children.oursMetrics?.tail);
  if (!s7) return null;
  const rows = Object.values(s7);
  const hasDo = rows.some((r) => r.doCalls != null);
  const hasKv = rows.some((r) => r.kvRead != null || r.kvWrite != null);
  const opt = (on, cells) => (on ? cells : []);
  const tbl = [["request", ...opt(hasDo, ["DO"]), ...opt(hasKv, ["KV r", "KV w"]), "class A", "class B", "deletes", "bytes written", "bytes read", "written/pushed", "distribution"]];
  for (const r of rows) {
    if (r.error) {
      tbl.push([r.label, ...opt(hasDo, [""]), ...opt(hasKv, ["", ""]), "FAILED", "", "", "", "", "", NA]);
      continue;
    }
    tbl.push([
      r.label,
      ...opt(hasDo, [fmtInt(r.doCalls ?? 0)]),
      ...opt(hasKv, [fmtInt(r.kvRead ?? 0), fmtInt(r.kvWrite ?? 0)]),
      fmtInt(r.classA),
      fmtInt(r.classB),
      fmtInt(r.deletes),
      fmtInt(r.written),
      fmtInt(r.read),
      r.push ? r.writtenRatio.toFixed(3) : "",
      NA,
    ]);
  }
  say(table(tbl));
  say(`  per step (${hasDo ? "DO / " : ""}${hasKv ? "KV r / KV w / " : ""}class A / class B / deletes / written / read):`);
  for (const r of rows) {
    if (!r.steps || r.steps.length < 2) continue;
    const grouped = r.steps.map(
      (x) =>
        `${x.step} ${hasDo ? `${x.doCalls ?? 0}/` : ""}${hasKv ? `${x.kvRead ?? 0}/${x.kvWrite ?? 0}/` : ""}${x.classA}/${x.classB}/${x.deletes}/${fmtInt(x.written)}/${fmtInt(x.read)}`,
    );
    say(`    ${r.label}:`);
    for (let i = 0; i < grouped.length; i += 4) say(`      ${grouped.slice(i, i + 4).join("  ")}`);
  }
  return s7;
}

export function storageOpsSummary(s7) {
  const opsStr = (r) => (r.error ? "FAILED" : `${r.doCalls != null ? `DO ${r.doCalls}, ` : ""}A ${r.classA}, B ${r.classB}`);
  const wrStr = (r) => (r.error ? "FAILED" : `${r.writtenRatio.toFixed(3)}, ${fmtInt(r.read)} B`);
  return [
    ["manifest GET by tag: storage ops", opsStr(s7.manifestGetTag), NA, ""],
    ["blob push 1 MiB: storage ops", opsStr(s7.blobPush), NA, ""],
    ["image push (3 layers): storage ops", opsStr(s7.imagePush), NA, ""],
    ["image push (3 layers): written/pushed, read", wrStr(s7.imagePush), NA, ""],
    [`chunked push ${CFG.chunkedSize / MiB} MiB: written/pushed, read`, wrStr(s7.blobPushChunked), NA, ""],
  ];
}
