import { describe, expect, test } from "vitest";
import { OciError, concatBytes, createHash, digestOf, hashingStream, restoreHash, verifyingStream } from "../src/index";
import type { Digest } from "../src/index";
import { chunksAt, cuts, randomBytes, rng } from "./random";

function source(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  return concatBytes(parts, total);
}

async function failure(promise: Promise<unknown>): Promise<OciError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(OciError);
    return e as OciError;
  }
  throw new Error("expected the stream to fail");
}

/** Byte equality without vitest's element-by-element deep diff, which is slow on large arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const data = randomBytes(rng(42), 200_003);
const chunks = chunksAt(data, cuts(rng(43), data.length, 25));

describe("hashingStream", () => {
  test.each(["sha256", "sha512"] as const)("%s passes bytes through and reports digest and size", async (algorithm) => {
    const { stream, done } = hashingStream(createHash(algorithm));
    const out = await collect(source(chunks).pipeThrough(stream));
    expect(sameBytes(out, data)).toBe(true);
    expect(await done).toEqual({ digest: await digestOf(algorithm, data), size: data.length });
  });

  test("continues a restored hash across requests", async () => {
    const first = hashingStream(createHash("sha256"));
    await collect(source([data.subarray(0, 70_000)]).pipeThrough(first.stream));
    const partial = await first.done;
    expect(partial.size).toBe(70_000);
    // The upload's state survives between requests as a string.
    const firstHash = createHash("sha256");
    firstHash.update(data.subarray(0, 70_000));
    const second = hashingStream(restoreHash(firstHash.saveState()));
    await collect(source([data.subarray(70_000)]).pipeThrough(second.stream));
    expect(await second.done).toEqual({ digest: await digestOf("sha256", data), size: data.length });
  });

  test("done rejects when the stream is aborted", async () => {
    const { stream, done } = hashingStream(createHash("sha256"));
    const writer = stream.writable.getWriter();
    await writer.abort(new Error("client went away")).catch(() => {});
    await expect(done).rejects.toThrow("client went away");
  });
});

describe("verifyingStream", () => {
  let digest: Digest;
  const wrong = `sha256:${"0".repeat(64)}` as Digest;

  test("passes matching content through", async () => {
    digest = await digestOf("sha256", data);
    expect(sameBytes(await collect(source(chunks).pipeThrough(verifyingStream(digest, data.length))), data)).toBe(true);
    expect(sameBytes(await collect(source(chunks).pipeThrough(verifyingStream(digest))), data)).toBe(true);
  });

  test("verifies sha512 too", async () => {
    const d512 = await digestOf("sha512", data);
    expect(sameBytes(await collect(source(chunks).pipeThrough(verifyingStream(d512, data.length))), data)).toBe(true);
  });

  test.each<[string, () => Digest, number | undefined, Uint8Array[], string]>([
    ["wrong digest", () => wrong, undefined, chunks, "DIGEST_INVALID"],
    ["wrong digest with right size", () => wrong, data.length, chunks, "DIGEST_INVALID"],
    ["fewer bytes than expected", () => digest, data.length + 1, chunks, "SIZE_INVALID"],
    ["more bytes than expected", () => digest, data.length - 1, chunks, "SIZE_INVALID"],
    ["empty body, expected size 10", () => digest, 10, [], "SIZE_INVALID"],
  ])("%s → %s", async (_, expected, size, input, code) => {
    const error = await failure(collect(source(input).pipeThrough(verifyingStream(expected(), size))));
    expect(error.code).toBe(code);
    expect(error.detail).toMatchObject({ expected: code === "SIZE_INVALID" ? size : expected() });
  });

  test("an oversized body fails before the end", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const error = await failure(collect(endless.pipeThrough(verifyingStream(wrong, 4096))));
    expect(error.code).toBe("SIZE_INVALID");
    expect(pulled).toBeLessThan(20);
  });

  test("a failing verifier aborts the consumer (as an R2 put would be)", async () => {
    let closed = false;
    let abortReason: unknown;
    const sink = new WritableStreamCollector(() => (closed = true), (r) => (abortReason = r));
    await expect(source(chunks).pipeThrough(verifyingStream(wrong)).pipeTo(sink.stream)).rejects.toBeInstanceOf(OciError);
    expect(closed).toBe(false);
    expect((abortReason as OciError).code).toBe("DIGEST_INVALID");
  });
});

/** A sink that records whether it was closed or aborted. */
class WritableStreamCollector {
  readonly stream: WritableStream<Uint8Array>;
  constructor(onClose: () => void, onAbort: (reason: unknown) => void) {
    const { writable, readable } = new TransformStream<Uint8Array, Uint8Array>();
    this.stream = writable;
    const reader = readable.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done } = await reader.read();
          if (done) return onClose();
        }
      } catch (e) {
        onAbort(e);
      }
    })();
  }
}
