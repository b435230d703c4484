import { describe, expect, test } from "vitest";
import { OciError, createHash, restoreHash } from "../src/index";
import type { DigestAlgorithm } from "../src/index";
import { chunksAt, cuts, randomBytes, rng } from "./random";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const MSG448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const MSG896 =
  "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
const MILLION_A = new Uint8Array(1_000_000).fill(0x61);

async function subtle(algorithm: DigestAlgorithm, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const sum = new Uint8Array(await crypto.subtle.digest(algorithm === "sha256" ? "SHA-256" : "SHA-512", bytes));
  return `${algorithm}:${Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// FIPS 180-4 example vectors (NIST CAVP / "Secure Hashing" examples).
const vectors: [DigestAlgorithm, string, Uint8Array, string][] = [
  ["sha256", "empty", text(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["sha256", "abc", text("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ["sha256", "448-bit", text(MSG448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  ["sha256", "896-bit", text(MSG896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
  ["sha256", "1 million a", MILLION_A, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
  [
    "sha512",
    "empty",
    text(""),
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
  ],
  [
    "sha512",
    "abc",
    text("abc"),
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  ],
  [
    "sha512",
    "448-bit",
    text(MSG448),
    "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
  ],
  [
    "sha512",
    "896-bit",
    text(MSG896),
    "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
  ],
  [
    "sha512",
    "1 million a",
    MILLION_A,
    "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
  ],
];

describe("NIST vectors", () => {
  test.each(vectors)("%s %s", (algorithm, _, bytes, hex) => {
    const hash = createHash(algorithm);
    hash.update(bytes);
    expect(hash.digest()).toBe(`${algorithm}:${hex}`);
    expect(hash.length).toBe(bytes.length);
  });

  test.each(vectors)("%s %s, one byte at a time for the short ones, 1000-byte chunks for the long", (algorithm, _, bytes, hex) => {
    const hash = createHash(algorithm);
    const step = bytes.length > 1000 ? 1000 : 1;
    for (let i = 0; i < bytes.length; i += step) hash.update(bytes.subarray(i, i + step));
    expect(hash.digest()).toBe(`${algorithm}:${hex}`);
  });
});

// Every length around the block and length-field boundaries, against WebCrypto.
describe.each<DigestAlgorithm>(["sha256", "sha512"])("%s at every length 0…300", (algorithm) => {
  test("matches crypto.subtle.digest", async () => {
    const data = randomBytes(rng(7), 300);
    for (let n = 0; n <= 300; n++) {
      const hash = createHash(algorithm);
      hash.update(data.subarray(0, n));
      expect(hash.digest(), `length ${n}`).toBe(await subtle(algorithm, data.slice(0, n)));
    }
  });
});

// Random data, random chunk boundaries, and a save/restore (through JSON) at every boundary.
const randomCases: [DigestAlgorithm, number, number][] = [];
for (const algorithm of ["sha256", "sha512"] as const) {
  for (const [seed, size] of [
    [1, 0],
    [2, 1],
    [3, 127],
    [4, 129],
    [5, 1000],
    [6, 4096],
    [7, 65_537],
    [8, 300_001],
  ] as const) {
    randomCases.push([algorithm, seed, size]);
  }
}

describe("random chunking", () => {
  test.each(randomCases)("%s seed %i, %i bytes", async (algorithm, seed, size) => {
    const next = rng(seed);
    const data = randomBytes(next, size);
    const expected = await subtle(algorithm, data);
    const chunks = chunksAt(data, cuts(next, size, 40));

    const plain = createHash(algorithm);
    for (const chunk of chunks) plain.update(chunk);
    expect(plain.digest()).toBe(expected);

    let resumed = createHash(algorithm);
    let hashed = 0;
    for (const chunk of chunks) {
      resumed.update(chunk);
      hashed += chunk.length;
      const saved: unknown = JSON.parse(JSON.stringify({ state: resumed.saveState() }));
      resumed = restoreHash((saved as { state: string }).state);
      expect(resumed.length).toBe(hashed);
      expect(resumed.algorithm).toBe(algorithm);
    }
    expect(resumed.digest()).toBe(expected);
  });
});

describe("digest() does not end the hash", () => {
  test.each<DigestAlgorithm>(["sha256", "sha512"])("%s", async (algorithm) => {
    const data = randomBytes(rng(99), 5000);
    const hash = createHash(algorithm);
    for (let i = 0; i < data.length; i += 700) {
      hash.update(data.subarray(i, i + 700));
      const end = Math.min(i + 700, data.length);
      expect(hash.digest()).toBe(await subtle(algorithm, data.slice(0, end)));
      expect(hash.digest()).toBe(hash.digest());
    }
  });
});

describe("saveState", () => {
  test.each<[DigestAlgorithm, number]>([
    ["sha256", 0],
    ["sha256", 63],
    ["sha256", 1 << 20],
    ["sha512", 127],
  ])("%s after %i bytes is compact", (algorithm, n) => {
    const hash = createHash(algorithm);
    hash.update(new Uint8Array(n));
    const state = hash.saveState();
    expect(state.length).toBeLessThan(algorithm === "sha256" ? 160 : 300);
    expect(restoreHash(state).saveState()).toBe(state);
  });
});

describe("restoreHash rejects corrupt or foreign states", () => {
  const good = (() => {
    const hash = createHash("sha256");
    hash.update(text("hello, world"));
    return hash.saveState();
  })();
  const [version, algorithm, length, payload, sum] = good.split(".") as [string, string, string, string, string];
  const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);

  test.each([
    ["empty", ""],
    ["not a state", "hello"],
    ["JSON", '{"state":1}'],
    ["one part missing", [version, algorithm, length, payload].join(".")],
    ["unknown version", ["v9", algorithm, length, payload, sum].join(".")],
    ["unknown algorithm", [version, "md5", length, payload, sum].join(".")],
    ["edited payload", [version, algorithm, length, flip(payload, 3), sum].join(".")],
    ["edited length", [version, algorithm, "13", payload, sum].join(".")],
    ["edited checksum", [version, algorithm, length, payload, "00000000"].join(".")],
    ["truncated", good.slice(0, -1)],
    ["padded", `${good} `],
    ["very long", `${good}${"A".repeat(5000)}`],
  ])("%s → BLOB_UPLOAD_INVALID", (_, state) => {
    let error: unknown;
    try {
      restoreHash(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OciError);
    expect((error as OciError).code).toBe("BLOB_UPLOAD_INVALID");
  });

  test("the good state restores", () => {
    const hash = restoreHash(good);
    expect(hash.length).toBe(12);
  });
});

describe("update input", () => {
  test("other views are hashed as their bytes", async () => {
    const data = randomBytes(rng(5), 64);
    const expected = await subtle("sha256", data);
    for (const view of [new DataView(data.buffer), new Uint16Array(data.buffer), new Uint8Array(data.buffer, 0, 64)]) {
      const hash = createHash("sha256");
      hash.update(view as unknown as Uint8Array);
      expect(hash.digest()).toBe(expected);
    }
  });

  test("a non-view is refused", () => {
    expect(() => createHash("sha256").update(new ArrayBuffer(4) as unknown as Uint8Array)).toThrow(TypeError);
  });
});
