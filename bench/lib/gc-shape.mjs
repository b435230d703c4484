// The registry section 13 (garbage collection) seeds into both systems: repositories of 20 images each, half of
// them untagged, every image = an OCI manifest + its own config + 1 own layer (2 for one image in 10) + one layer
// shared across repositories, and one orphaned blob link per repository: ~2.2 blobs per manifest. Deterministic; blob bytes are `label` repeated to the
// blob's size (so both systems can write them from a few bytes of description) and digests are their real sha256.
// Also what a correct GC with deleteUntagged and no grace deletes, computed from the shape.
import { createHash, randomUUID } from "node:crypto";

export const IMAGES_PER_REPO = 20;
const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

/** The bytes of a seeded blob: `label` repeated to `size` characters (ASCII). */
export const blobContent = (label, size) => label.repeat(Math.ceil(size / label.length)).slice(0, size);
const sha = (s) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

/**
 * @param {number} manifests  how many images (>= 20; rounded down to a multiple of 20)
 * @returns {{ repos: { name: string, links: string[], manifests: { digest: string, json: string, refs: string[], tag: string|null }[] }[],
 *   blobs: Map<string, { size: number, label: string, key: string }>, expected: object }}
 */
export function gcShape(manifests) {
  const nRepos = Math.max(1, Math.floor(manifests / IMAGES_PER_REPO));
  const blobs = new Map();
  const blob = (label, size) => {
    const digest = sha(blobContent(label, size));
    if (!blobs.has(digest)) blobs.set(digest, { size, label, key: `data/${randomUUID()}/${randomUUID()}` });
    return digest;
  };
  // shared layers: the first 4/5 used by tagged images, the last 1/5 only by untagged ones (deleted registry-wide)
  const nShared = Math.max(10, Math.floor(nRepos / 2));
  const keptPool = Math.floor((nShared * 4) / 5);
  const shared = Array.from({ length: nShared }, (_, i) => blob(`shared-layer-${i}\n`, 2048 + ((i * 37) % 2048)));
  const repos = [];
  for (let r = 0; r < nRepos; r++) {
    const name = `gc/r${String(r).padStart(4, "0")}`;
    const links = new Set();
    const images = [];
    for (let j = 0; j < IMAGES_PER_REPO; j++) {
      const tagged = j % 2 === 0;
      const config = blob(`${name} config ${j}\n`, 200 + ((r + j * 13) % 500));
      const layers = [tagged ? shared[(r * 3 + j / 2) % keptPool] : shared[keptPool + ((r + j) % (nShared - keptPool))], blob(`${name} layer ${j}a\n`, 1024 + ((r * 7 + j * 31) % 3072))];
      if (j % 10 === 1) layers.push(blob(`${name} layer ${j}b\n`, 1024 + ((r * 11 + j * 17) % 3072)));
      const desc = (mediaType, digest) => ({ mediaType, digest, size: blobs.get(digest).size });
      const json = JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: desc(CONFIG_TYPE, config),
        layers: layers.map((d) => desc(LAYER_TYPE, d)),
      });
      const refs = [config, ...layers];
      for (const d of refs) links.add(d);
      images.push({ digest: sha(json), json, refs, tag: tagged ? `v${j}` : null });
    }
    links.add(blob(`${name} orphan\n`, 1500 + (r % 1000))); // linked by an upload, referenced by no manifest
    repos.push({ name, links: [...links], manifests: images });
  }
  return { repos, blobs, expected: expectedGc(repos, blobs) };
}

/** What GC with deleteUntagged and no grace must delete: untagged manifests, links they alone needed, unneeded blobs. */
function expectedGc(repos, blobs) {
  const keptBlobs = new Set();
  let manifests = 0;
  let untagged = 0;
  let links = 0;
  let linksDeleted = 0;
  for (const repo of repos) {
    const needed = new Set();
    for (const m of repo.manifests) {
      manifests++;
      if (m.tag) for (const d of m.refs) needed.add(d);
      else untagged++;
    }
    links += repo.links.length;
    for (const d of repo.links) {
      if (needed.has(d)) keptBlobs.add(d);
      else linksDeleted++;
    }
  }
  let bytesFreed = 0;
  for (const [d, b] of blobs) if (!keptBlobs.has(d)) bytesFreed += b.size;
  return {
    repositories: repos.length,
    manifests,
    blobs: blobs.size,
    links,
    manifestsDeleted: untagged,
    blobLinksDeleted: linksDeleted,
    blobsDeleted: blobs.size - keptBlobs.size,
    blobsKept: keptBlobs.size,
    bytesFreed,
  };
}
