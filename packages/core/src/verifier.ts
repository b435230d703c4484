/**
 * The one way content is checked against a digest: a `Verifier` hashes bytes as they pass and fails — with
 * `OciError("SIZE_INVALID")` or `OciError("DIGEST_INVALID")`, detail `{expected, actual}` — before the last chunk
 * is released, so whatever consumes the bytes (an R2 put, a client, a cache) never completes with wrong content.
 * It hashes with core's resumable SHA-2 (whose state an upload spanning requests saves and restores) or with any
 * faster `ContentHash` the caller has (workerd's native digest, where the state need not survive the request).
 * Spec: distribution-spec "Pushing blobs" (the registry MUST verify the digest; SIZE_INVALID / DIGEST_INVALID in
 * the error codes table), "Pushing a blob in chunks"; image-spec "Descriptor" § Digests.
 */
import type { Digest, DigestAlgorithm } from "./digest";
import { digestAlgorithm, digestOf } from "./digest";
import { OciError } from "./errors";
import type { ResumableHash } from "./hash";
import { createHash, restoreHash } from "./hash";

/** A running hash a Verifier feeds: core's `ResumableHash`, or a native one whose calls may be asynchronous. */
export interface ContentHash {
  /** The algorithm, as in the digest prefix. */
  readonly algorithm: DigestAlgorithm;
  /** Feeds `bytes` into the hash. */
  update(bytes: Uint8Array): void | Promise<void>;
  /** The digest of everything fed so far; called once, at the end. */
  digest(): Digest | Promise<Digest>;
}

/** What the content must be: its digest, its total size (counting bytes before `offset` too), or both. */
export interface Expected {
  digest?: Digest;
  size?: number;
}

/** `OciError("DIGEST_INVALID")` with detail `{expected, actual}`. Spec: distribution-spec, error codes table. */
export function digestMismatch(expected: Digest, actual: Digest): OciError {
  return new OciError("DIGEST_INVALID", { detail: { expected, actual } });
}

/** `OciError("SIZE_INVALID")` with detail `{expected, actual}` (bytes). Spec: distribution-spec, error codes table. */
export function sizeMismatch(expected: number, actual: number): OciError {
  return new OciError("SIZE_INVALID", { detail: { expected, actual } });
}

/** Throws `digestMismatch(expected, actual)` unless the two are the same digest. */
export function verifyDigest(expected: Digest, actual: Digest): void {
  if (actual !== expected) throw digestMismatch(expected, actual);
}

/** Checks a whole buffer (a manifest, a cached response) against `expected`; throws as `verifyDigest`. */
export async function verifyBytes(expected: Digest, bytes: Uint8Array): Promise<void> {
  verifyDigest(expected, await digestOf(digestAlgorithm(expected), bytes));
}

/**
 * Hashes bytes as they pass (`update`, or the `through` / `stream` wrappers, which hold the last chunk back
 * until the check passed) and checks them at `finish`. The bytes counted start at `offset` (the bytes an upload
 * received in earlier requests). `expected.digest` is checked with the hash of its algorithm, which `hashes`
 * must hold (by default: a fresh resumable hash of that algorithm); other hashes just report their digests.
 */
export class Verifier {
  /** Settles with `finish()`'s outcome, or rejects with the reason the stream failed or was aborted. */
  readonly done: Promise<Digest[]>;
  private readonly hashes: readonly ContentHash[];
  private received: number;
  private result?: Promise<Digest[]>;
  private settle!: (result: Promise<Digest[]>) => void;

  constructor(
    private readonly expected: Expected = {},
    hashes?: readonly ContentHash[],
    offset = 0,
  ) {
    this.hashes = hashes ?? (expected.digest ? [createHash(digestAlgorithm(expected.digest))] : []);
    if (expected.digest && !this.hashes.some((h) => h.algorithm === digestAlgorithm(expected.digest!))) {
      throw new TypeError(`a verifier of ${expected.digest} needs a ${digestAlgorithm(expected.digest)} hash`);
    }
    this.received = offset;
    this.done = new Promise<Promise<Digest[]>>((resolve) => (this.settle = resolve)).then((r) => r);
    this.done.catch(() => undefined);
  }

  /** Bytes counted so far, `offset` included. */
  get size(): number {
    return this.received;
  }

  /** Hashes `chunk`; throws SIZE_INVALID as soon as the bytes exceed `expected.size`. */
  async update(chunk: Uint8Array): Promise<void> {
    this.received += chunk.byteLength;
    if (this.expected.size !== undefined && this.received > this.expected.size) {
      throw sizeMismatch(this.expected.size, this.received);
    }
    for (const hash of this.hashes) {
      const pending = hash.update(chunk);
      if (pending) await pending;
    }
  }

  /**
   * Ends the hashing: the digests of `hashes`, in their order. Throws SIZE_INVALID when fewer bytes than
   * `expected.size` came, DIGEST_INVALID when `expected.digest` differs. Later calls give the same outcome.
   */
  finish(): Promise<Digest[]> {
    return this.settled(() => this.check());
  }

  /** The saved state of the first hash, for an upload that continues in a later request (see `resumeVerifier`). */
  saveState(): string {
    const hash = this.hashes[0] as Partial<ResumableHash> | undefined;
    if (!hash?.saveState) throw new TypeError("this verifier's hash cannot be saved");
    return hash.saveState();
  }

  /** Passes `chunks` through, hashed; the last one only after `finish()` succeeded (else its error is thrown). */
  async *through(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let held: Uint8Array | undefined;
    for await (const chunk of chunks) {
      await this.update(chunk);
      if (held) yield held;
      held = chunk;
    }
    await this.finish();
    if (held) yield held;
  }

  /**
   * The same as a TransformStream: it errors (aborting its consumer, e.g. an R2 put) instead of releasing the
   * last chunk when the content is wrong. If the stream is aborted, `finish()` rejects with the reason.
   */
  stream(): TransformStream<Uint8Array, Uint8Array> {
    let held: Uint8Array | undefined;
    // `cancel` (called on abort) is newer than TypeScript's DOM Transformer type, so the transformer is not an
    // object literal passed directly (the excess-property check) and names no global stream types.
    const transformer = {
      transform: async (chunk: Uint8Array, controller: { enqueue(chunk: Uint8Array): void }): Promise<void> => {
        await this.update(chunk).catch((e: unknown) => this.fail(e));
        if (held) controller.enqueue(held);
        held = chunk;
      },
      flush: async (controller: { enqueue(chunk: Uint8Array): void }): Promise<void> => {
        await this.finish();
        if (held) controller.enqueue(held);
      },
      cancel: (reason: unknown): void => {
        this.fail(reason).catch(() => undefined);
      },
    };
    return new TransformStream<Uint8Array, Uint8Array>(transformer);
  }

  private fail(reason: unknown): Promise<never> {
    this.settled(() => Promise.reject(reason));
    return Promise.reject(reason);
  }

  /** The first outcome wins: `finish()` after a failure gives the failure. */
  private settled(outcome: () => Promise<Digest[]>): Promise<Digest[]> {
    if (!this.result) {
      this.result = outcome();
      this.result.catch(() => undefined);
      this.settle(this.result);
    }
    return this.result;
  }

  private async check(): Promise<Digest[]> {
    const { digest, size } = this.expected;
    if (size !== undefined && this.received !== size) throw sizeMismatch(size, this.received);
    const digests = await Promise.all(this.hashes.map((h) => h.digest()));
    if (digest) verifyDigest(digest, digests.find((d) => digestAlgorithm(d) === digestAlgorithm(digest))!);
    return digests;
  }
}

/**
 * A verifier that continues the resumable hash `state` (from `Verifier.saveState` or `ResumableHash.saveState`)
 * of an upload's earlier requests, counting its bytes. Throws `BLOB_UPLOAD_INVALID` on a corrupt state.
 * Spec: distribution-spec "Pushing a blob in chunks".
 */
export function resumeVerifier(state: string, expected: Expected = {}): Verifier {
  const hash = restoreHash(state);
  return new Verifier(expected, [hash], hash.length);
}
