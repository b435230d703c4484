// Test data written offline: random blobs streamed to disk with their sha256, a small image, and OCI image
// layouts with a big tar+gzip layer for skopeo.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { writeRandom, writeRandomLayer } from "../../test/support/tar-layer.mjs";

export const MiB = 1024 * 1024;
export const sha256 = (b) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

const MT = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
};

function writer(stream) {
  return (b) =>
    new Promise((resolve, reject) => {
      stream.write(b, (e) => (e ? reject(e) : resolve()));
    });
}

function finished(stream) {
  return new Promise((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
}

/** A file of `size` random bytes; returns { file, size, digest }. */
export async function randomFile(file, size) {
  const hash = createHash("sha256");
  const out = createWriteStream(file, { highWaterMark: 4 * MiB });
  const done = finished(out);
  const w = writer(out);
  await writeRandom(size, (b) => {
    hash.update(b);
    return w(b);
  });
  out.end();
  await done;
  return { file, size, digest: `sha256:${hash.digest("hex")}` };
}

/** The small image: one config and one small layer; returns its blobs and manifest. */
export function smallImage() {
  const layer = Buffer.concat([randomBytes(2048), Buffer.from("bench small layer\n")]);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/true"] },
      rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: sha256(config), size: config.length },
      layers: [{ mediaType: MT.layerGzip, digest: sha256(layer), size: layer.length }],
    }),
  );
  return {
    blobs: [
      { name: "config", body: config, digest: sha256(config) },
      { name: "layer", body: layer, digest: sha256(layer) },
    ],
    manifest,
    manifestDigest: sha256(manifest),
  };
}

/** An image whose blobs are given as { body, digest, mediaType }: returns the manifest bytes. */
export function manifestFor(config, layers) {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: config.digest, size: config.body.length },
      layers: layers.map((l) => ({ mediaType: MT.layerGzip, digest: l.digest, size: l.body.length })),
    }),
  );
}

/**
 * An image in memory: `n` layers of `layerSize` random bytes, a config naming them, the manifest (`annotations`
 * added to it when given, e.g. to make a second manifest of the same blobs). Returns { config, layers, manifest,
 * manifestDigest, bytes } (bytes = config + layers + manifest).
 */
export function randomImage(layerSize, n = 3, annotations) {
  const layers = Array.from({ length: n }, () => {
    const b = randomBytes(layerSize);
    return { body: b, digest: sha256(b) };
  });
  const cfgBody = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }));
  const config = { body: cfgBody, digest: sha256(cfgBody) };
  const manifest = withAnnotations(manifestFor(config, layers), annotations);
  return { config, layers, manifest, manifestDigest: sha256(manifest), bytes: cfgBody.length + layers.reduce((a, l) => a + l.body.length, 0) + manifest.length };
}

/** The same manifest with `annotations` (a different manifest of the same blobs); as is without. */
export function withAnnotations(manifest, annotations) {
  if (!annotations) return manifest;
  return Buffer.from(JSON.stringify({ ...JSON.parse(manifest.toString("utf8")), annotations }));
}

/**
 * An OCI image layout (oci-layout, index.json, blobs/sha256/...) holding one image tagged `tag` with one layer per
 * entry of `sizes` (each a tar of one file of that many random bytes, gzip level 0: see writeRandomLayer).
 * Returns { dir, layers: [{ digest, size }], config: { digest, size }, manifestDigest, manifestSize, totalSize }.
 */
export async function imageLayout(dir, sizes, tag) {
  const blobs = path.join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const layers = [];
  for (let i = 0; i < sizes.length; i++) layers.push(await writeRandomLayer(blobs, sizes.length === 1 ? "big.bin" : `layer${i + 1}.bin`, sizes[i]));
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/true"] },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  writeFileSync(path.join(blobs, sha256(config).slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: MT.layerGzip, digest: l.digest, size: l.size })),
    }),
  );
  writeFileSync(path.join(blobs, sha256(manifest).slice(7)), manifest);
  writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    path.join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: [
        {
          mediaType: MT.manifest,
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
  return {
    dir,
    layers: layers.map(({ digest, size }) => ({ digest, size })),
    config: { digest: sha256(config), size: config.length },
    manifestDigest: sha256(manifest),
    manifestSize: manifest.length,
    totalSize: config.length + layers.reduce((a, l) => a + l.size, 0),
  };
}

/**
 * An OCI image layout holding one image tagged `tag` whose only layer is a tar (one file of `size` random bytes)
 * compressed by gzip at level 0. Returns { dir, layerSize, layerDigest }.
 */
export async function bigLayout(dir, size, tag) {
  const img = await imageLayout(dir, [size], tag);
  return { dir, layerSize: img.layers[0].size, layerDigest: img.layers[0].digest };
}

/** The files of a directory with their sizes (for a skopeo dir: pull). */
export function dirFiles(dir) {
  try {
    return readdirSync(dir).map((f) => ({ f, size: statSync(path.join(dir, f)).size }));
  } catch {
    return [];
  }
}

/** Bytes of all files under a directory (the local R2 simulator's files, for a fill's bytes written). */
export function duBytes(dir) {
  let total = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          total += statSync(p).size;
        } catch {
          /* vanished */
        }
      }
    }
  };
  walk(dir);
  return total;
}
