/** Deterministic pseudo-random numbers for tests (xorshift32), so that a failing case can be replayed. */
export function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** `n` pseudo-random bytes from `next`. */
export function randomBytes(next: () => number, n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** Sorted, distinct cut points in (0, n) — `count` of them at most — splitting `n` bytes into chunks. */
export function cuts(next: () => number, n: number, count: number): number[] {
  const points = new Set<number>();
  for (let i = 0; i < count && n > 1; i++) points.add(1 + Math.floor(next() * (n - 1)));
  return [...points].sort((a, b) => a - b);
}

/** `bytes` split at `points` into consecutive chunks, plus a leading and a trailing empty chunk. */
export function chunksAt(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [bytes.subarray(0, 0)];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(bytes.length));
  return chunks;
}
