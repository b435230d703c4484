// 1. Seed: the small image (config + layer + manifest as bench/small:latest) and the big random blob, pushed to
// both registries; the big push's throughput is printed (informative; section 6 is the controlled version).
import { anomaly, BIG_LABEL, BLOB_REPO, say, section, SMALL, SMALL_REPO } from "../lib/context.mjs";
import { fmtRate, fmtS, heading, ratio, row } from "../lib/format.mjs";
import { expectStatus, MANIFEST_TYPE, pushBlob, putManifest, request, supportsMonolithicPost } from "../lib/http.mjs";

async function seed(reg, big) {
  const [config, layer] = SMALL.blobs;
  reg.monolithic = await supportsMonolithicPost(reg.base, SMALL_REPO, config.digest, config.body);
  reg.pushMode = reg.monolithic ? "post" : "post-put";
  if (!reg.monolithic) await pushBlob(reg.base, SMALL_REPO, config.digest, { body: config.body }, reg.pushMode);
  await pushBlob(reg.base, SMALL_REPO, layer.digest, { body: layer.body }, reg.pushMode);
  const put = await putManifest(reg.base, SMALL_REPO, "latest", SMALL.manifest);
  const dcd = put.headers["docker-content-digest"];
  if (dcd && dcd !== SMALL.manifestDigest) anomaly(`${reg.name}: manifest PUT answered digest ${dcd}, expected ${SMALL.manifestDigest}`);
  const get = await request(`${reg.base}/v2/${SMALL_REPO}/manifests/latest`, { headers: { Accept: MANIFEST_TYPE } });
  expectStatus(get, 200, `${reg.name}: GET manifest by tag`);
  if (!get.body.equals(SMALL.manifest)) anomaly(`${reg.name}: manifest GET by tag returned different bytes`);
  const p = await pushBlob(reg.base, BLOB_REPO, big.digest, { file: big.file }, reg.pushMode, 600_000);
  const head = await request(`${reg.base}/v2/${BLOB_REPO}/blobs/${big.digest}`, { method: "HEAD" });
  expectStatus(head, 200, `${reg.name}: HEAD big blob`);
  if (Number(head.headers["content-length"]) !== big.size)
    anomaly(`${reg.name}: HEAD of the ${BIG_LABEL} blob says Content-Length ${head.headers["content-length"]}`);
  return { mode: reg.pushMode, bigPushMs: p.ms, bigPushRate: big.size / (p.ms / 1000) };
}

/** Runs and prints section 1; throws if seeding failed (sections 2-5 need it). */
export async function seedSection({ regs, big, oursLog }) {
  say(heading("1. seed", `small image ${SMALL_REPO}:latest (config + 1 layer + OCI manifest) and a ${BIG_LABEL} random blob in ${BLOB_REPO}`));
  const s1 = await section(
    "seed",
    async () => {
      const r = {};
      for (const reg of regs) r[reg.name] = await seed(reg, big);
      return r;
    },
    oursLog,
  );
  if (!s1) throw new Error("seeding failed: nothing to measure");
  const mode = (m, why = "") => (m === "post" ? "monolithic POST ?digest=" : `POST + PUT with body${why}`);
  say(`  push mode: ours ${mode(s1.ours.mode)}, distribution ${mode(s1.distribution.mode, " (2.8 ignores a body on POST)")}`);
  say(
    row(
      `${BIG_LABEL} blob push (one request, Node http)`,
      `${fmtRate(s1.ours.bigPushRate)} (${fmtS(s1.ours.bigPushMs)})`,
      `${fmtRate(s1.distribution.bigPushRate)} (${fmtS(s1.distribution.bigPushMs)})`,
      ratio(s1.ours.bigPushRate, s1.distribution.bigPushRate),
    ),
  );
  return s1;
}
