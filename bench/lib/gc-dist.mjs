// Section 13's peer: the same registry shape (lib/gc-shape.mjs) written straight into distribution's filesystem
// layout (docker/distribution registry/storage/paths.go), then `docker-registry garbage-collect` over it: wall
// time, peak resident memory (sampled), what it deleted (its output, and files counted before and after).
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

import { blobContent } from "./gc-shape.mjs";
import { sampleRss, spawnTracked } from "./proc.mjs";

const hexOf = (digest) => digest.slice("sha256:".length);
const v2 = (root) => path.join(root, "docker", "registry", "v2");

function link(dir, digest) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "link"), digest);
}

/** Writes the shape's blobs, manifests (as blobs), revisions, tags and layer links under `root`. */
export function seedDistribution(root, shape) {
  const base = v2(root);
  const blobFile = (digest, bytes) => {
    const dir = path.join(base, "blobs", "sha256", hexOf(digest).slice(0, 2), hexOf(digest));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "data"), bytes);
  };
  for (const [digest, b] of shape.blobs) blobFile(digest, blobContent(b.label, b.size));
  for (const repo of shape.repos) {
    const r = path.join(base, "repositories", ...repo.name.split("/"));
    for (const d of repo.links) link(path.join(r, "_layers", "sha256", hexOf(d)), d);
    for (const m of repo.manifests) {
      blobFile(m.digest, m.json);
      link(path.join(r, "_manifests", "revisions", "sha256", hexOf(m.digest)), m.digest);
      if (m.tag) {
        link(path.join(r, "_manifests", "tags", m.tag, "current"), m.digest);
        link(path.join(r, "_manifests", "tags", m.tag, "index", "sha256", hexOf(m.digest)), m.digest);
      }
    }
  }
}

const entries = (dir) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Files in the store: blobs (data dirs) and their bytes, manifest revisions, layer links, tags. */
export function countDistribution(root, shape) {
  const base = v2(root);
  let blobs = 0;
  let bytes = 0;
  for (const p of entries(path.join(base, "blobs", "sha256"))) {
    for (const h of entries(path.join(base, "blobs", "sha256", p))) {
      blobs++;
      try {
        bytes += statSync(path.join(base, "blobs", "sha256", p, h, "data")).size;
      } catch {
        /* a blob dir without data */
      }
    }
  }
  let revisions = 0;
  let layerLinks = 0;
  let tags = 0;
  for (const repo of shape.repos) {
    const r = path.join(base, "repositories", ...repo.name.split("/"));
    revisions += entries(path.join(r, "_manifests", "revisions", "sha256")).length;
    layerLinks += entries(path.join(r, "_layers", "sha256")).length;
    tags += entries(path.join(r, "_manifests", "tags")).length;
  }
  return { blobs, bytes, revisions, layerLinks, tags };
}

/** The config garbage-collect reads: filesystem storage at `root`. */
export function distributionConfig(file, root) {
  writeFileSync(file, ["version: 0.1", "log: { level: error }", `storage: { filesystem: { rootdirectory: ${root} }, delete: { enabled: true } }`, ""].join("\n"));
  return file;
}

/**
 * `docker-registry garbage-collect [--dry-run] --delete-untagged <config>`: wall time, peak RSS, its counts.
 * Its output (a line per repository, manifest and blob marked, and per blob deleted) is counted as it streams.
 */
export async function distributionGc(config, { dryRun, timeoutMs = 240_000 }) {
  const args = ["garbage-collect", ...(dryRun ? ["--dry-run"] : []), "--delete-untagged", config];
  const started = performance.now();
  const cp = spawnTracked("docker-registry", args);
  const rss = sampleRss(cp.pid, 100);
  let partial = "";
  let tail = "";
  let summary = null;
  const lines = { blobsEligible: 0, manifestsEligible: 0, total: 0 };
  const onLine = (line) => {
    lines.total++;
    if (line.startsWith("blob eligible for deletion")) lines.blobsEligible++;
    else if (line.startsWith("manifest eligible for deletion")) lines.manifestsEligible++;
    const m = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(line);
    if (m) summary = { marked: Number(m[1]), blobs: Number(m[2]), manifests: Number(m[3]) };
  };
  cp.stdout.on("data", (d) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop();
    for (const l of parts) onLine(l);
  });
  cp.stderr.on("data", (d) => (tail = (tail + d).slice(-4000)));
  const timer = setTimeout(() => {
    try {
      process.kill(-cp.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }, timeoutMs);
  const { code, signal } = await cp.exited;
  clearTimeout(timer);
  const ms = performance.now() - started;
  const mem = rss.stop();
  if (partial) onLine(partial);
  if (code !== 0) throw new Error(`docker-registry ${args.join(" ")}: exit ${code ?? signal} after ${(ms / 1000).toFixed(1)} s: ${tail.trim().slice(-400)}`);
  return { ms, peakRss: mem.peak, summary, lines };
}
