import { describe, expect, test } from "vitest";
import { OciError, Verifier, createHash, digestOf, resumeVerifier, verifyBytes, verifyDigest } from "../src/index";
import type { ContentHash, Digest } from "../src/index";
import { chunksAt, cuts, randomBytes, rng } from "./random";

const data = randomBytes(rng(7), 100_001);
const chunks = chunksAt(data, cuts(rng(8), data.length, 12)).filter((c) => c.byteLength > 0);
const wrong = `sha256:${"0".repeat(64)}` as Digest;

async function* from(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

async function drain(verifier: Verifier, parts: Uint8Array[]): Promise<{ out: number; error?: unknown }> {
  let out = 0;
  try {
    for await (const chunk of verifier.through(from(parts))) out += chunk.byteLength;
  } catch (error) {
    return { out, error };
  }
  return { out };
}

/** A hash whose calls are asynchronous, as workerd's native digest is. */
function asyncHash(algorithm: "sha256" | "sha512"): ContentHash {
  const inner = createHash(algorithm);
  return {
    algorithm,
    update: async (bytes) => inner.update(bytes),
    digest: async () => inner.digest(),
  };
}

describe("Verifier.through", () => {
  test("passes matching content through and reports its digests", async () => {
    const d256 = await digestOf("sha256", data);
    const d512 = await digestOf("sha512", data);
    const verifier = new Verifier({ digest: d256, size: data.length }, [asyncHash("sha256"), asyncHash("sha512")]);
    expect(await drain(verifier, chunks)).toEqual({ out: data.length });
    expect(await verifier.finish()).toEqual([d256, d512]);
    expect(await verifier.done).toEqual([d256, d512]);
  });

  test.each<[string, () => Promise<Digest>, number | undefined, string]>([
    ["wrong digest", async () => wrong, undefined, "DIGEST_INVALID"],
    ["short body", () => digestOf("sha256", data), data.length + 1, "SIZE_INVALID"],
    ["long body", () => digestOf("sha256", data), data.length - 1, "SIZE_INVALID"],
  ])("%s fails before the last chunk is released (%s)", async (_, digest, size, code) => {
    const { out, error } = await drain(new Verifier({ digest: await digest(), size }), chunks);
    expect((error as OciError).code).toBe(code);
    expect(out).toBeLessThan(data.length);
    expect(out).toBeLessThanOrEqual(data.length - chunks[chunks.length - 1]!.byteLength);
  });

  test("details name what was expected and what came", async () => {
    const actual = await digestOf("sha256", data);
    const { error } = await drain(new Verifier({ digest: wrong }), chunks);
    expect((error as OciError).detail).toEqual({ expected: wrong, actual });
    const short = await drain(new Verifier({ size: 5 }), [new Uint8Array(3)]);
    expect((short.error as OciError).detail).toEqual({ expected: 5, actual: 3 });
  });

  test("a digest without a hash of its algorithm is a programming error", () => {
    expect(() => new Verifier({ digest: wrong }, [createHash("sha512")])).toThrow(TypeError);
  });
});

describe("resumable across requests", () => {
  test.each([1, 64, 70_000])("state saved after %i bytes, restored, verified at the end", async (cut) => {
    const digest = await digestOf("sha256", data);
    const first = new Verifier({}, [createHash("sha256")]);
    await drain(first, [data.subarray(0, cut)]);
    const second = resumeVerifier(first.saveState(), { digest, size: data.length });
    expect(second.size).toBe(cut);
    expect(await drain(second, [data.subarray(cut)])).toEqual({ out: data.length - cut });
  });

  test("a native hash cannot be saved", () => {
    expect(() => new Verifier({}, [asyncHash("sha256")]).saveState()).toThrow(TypeError);
  });

  test("a corrupt state is BLOB_UPLOAD_INVALID", () => {
    expect(() => resumeVerifier("v1.sha256.3.AAAA.00000000")).toThrow(OciError);
  });
});

describe("Verifier.stream", () => {
  test("an aborted stream rejects done with the reason", async () => {
    const verifier = new Verifier({ digest: wrong });
    const writer = verifier.stream().writable.getWriter();
    await writer.abort(new Error("client went away")).catch(() => {});
    await expect(verifier.done).rejects.toThrow("client went away");
  });
});

describe("whole buffers", () => {
  test("verifyBytes and verifyDigest", async () => {
    const digest = await digestOf("sha512", data);
    await expect(verifyBytes(digest, data)).resolves.toBeUndefined();
    await expect(verifyBytes(digest, data.subarray(1))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    expect(() => verifyDigest(wrong, digest)).toThrow(OciError);
  });
});
