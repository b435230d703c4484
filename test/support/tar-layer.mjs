// Tar layers written offline, for the tests (test/support/oci-layout.ts) and the benchmark (bench/lib/files.mjs):
// one ustar writer, in plain JS so that bench (no TypeScript) and tests import the same file; types in
// tar-layer.d.mts.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, renameSync } from "node:fs";
import path from "node:path";
import { createGzip } from "node:zlib";

const CHUNK = 4 * 1024 * 1024;

/** 512-byte ustar header for one regular file `name` (at most 100 bytes) of `size` bytes, mode 0644. */
export function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write("00000000000\0", 136);
  h.write("        ", 148);
  h.write("0", 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

/** What follows a file's `size` content bytes: padding to a 512-byte block, then the two zero blocks ending the tar. */
export function tarTrailer(size) {
  return Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

/** A whole tar holding one file `name` with `content`. */
export function tarOf(name, content) {
  return Buffer.concat([tarHeader(name, content.byteLength), content, tarTrailer(content.byteLength)]);
}

/**
 * Feeds `size` pseudo-random bytes to `write` (which returns a promise), in chunks of up to 4 MiB: one random
 * seed, each chunk made unique by its index and a random salt in its first bytes (so no two chunks, files or
 * runs dedupe).
 */
export async function writeRandom(size, write) {
  const seed = randomBytes(CHUNK);
  const salt = randomBytes(8);
  for (let done = 0, i = 0; done < size; done += CHUNK, i++) {
    const n = Math.min(CHUNK, size - done);
    const b = Buffer.from(seed.subarray(0, n));
    if (n >= 4) b.writeUInt32LE(i, 0);
    if (n > 4) salt.copy(b, 4, 0, Math.min(8, n - 4));
    await write(b);
  }
}

/**
 * Writes into `blobs` (an OCI layout's blobs/sha256 folder) a tar+gzip layer holding one file `name` of `size`
 * random bytes, streamed (constant memory, GiB sizes fine). The gzip uses stored blocks (level 0): cheap to write,
 * and clients see an already compressed layer, so none of them recompresses it on push. The file is named by its
 * digest. Returns `{ digest, size, diffId }` (size of the gzip, diffId = digest of the tar).
 */
export async function writeRandomLayer(blobs, name, size) {
  const tmp = path.join(blobs, `tmp-layer-${randomBytes(6).toString("hex")}`);
  const tarHash = createHash("sha256");
  const gzHash = createHash("sha256");
  let gzSize = 0;
  const gzip = createGzip({ level: 0, chunkSize: 1024 * 1024 });
  const out = createWriteStream(tmp);
  const finished = new Promise((resolve, reject) => {
    out.on("finish", resolve);
    out.on("error", reject);
  });
  gzip.on("data", (b) => {
    gzHash.update(b);
    gzSize += b.byteLength;
  });
  gzip.pipe(out);
  const write = (b) =>
    new Promise((resolve, reject) => {
      tarHash.update(b);
      gzip.write(b, (e) => (e ? reject(e) : resolve()));
    });
  await write(tarHeader(name, size));
  await writeRandom(size, write);
  await write(tarTrailer(size));
  gzip.end();
  await finished;
  const digest = `sha256:${gzHash.digest("hex")}`;
  renameSync(tmp, path.join(blobs, digest.slice(7)));
  return { digest, size: gzSize, diffId: `sha256:${tarHash.digest("hex")}` };
}
