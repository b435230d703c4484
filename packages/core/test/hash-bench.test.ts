import { expect, test } from "vitest";
import { createHash } from "../src/index";
import type { DigestAlgorithm } from "../src/index";
import { randomBytes, rng } from "./random";

// Throughput of the pure-TS hashes on large chunks, printed for the record (no timing assertions:
// shared CI machines are too noisy). Target: SHA-256 >= 150 MB/s in Node 20.
test.each<[DigestAlgorithm, number, number]>([
  ["sha256", 64 * 1024, 48],
  ["sha256", 1024 * 1024, 48],
  ["sha512", 64 * 1024, 24],
  ["sha512", 1024 * 1024, 24],
])("benchmark %s, %i-byte chunks, %i MiB", (algorithm, chunkSize, mebibytes) => {
  const chunk = randomBytes(rng(1), chunkSize);
  const total = mebibytes * 1024 * 1024;
  // Warm up so the JIT has compiled the compression function.
  const warm = createHash(algorithm);
  for (let i = 0; i < 8; i++) warm.update(chunk);
  const hash = createHash(algorithm);
  const start = performance.now();
  for (let done = 0; done < total; done += chunkSize) hash.update(chunk);
  hash.digest();
  const seconds = (performance.now() - start) / 1000;
  const rate = total / 1e6 / seconds;
  console.log(`${algorithm} ${chunkSize / 1024} KiB chunks: ${rate.toFixed(0)} MB/s`);
  expect(hash.length).toBe(total);
});
