import { describe, expect, test } from "vitest";
import { OciError, digestAlgorithm, digestHex, digestOf, isDigest, parseDigest } from "../src/index";

const hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const hex128 =
  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

// image-spec "Descriptor" § Digests: grammar, then the registered algorithms' strict rules.
describe("parseDigest", () => {
  test.each([
    ["sha256", `sha256:${hex64}`],
    ["sha512", `sha512:${hex128}`],
    ["sha256 of all zeros", `sha256:${"0".repeat(64)}`],
  ])("accepts %s", (_, s) => {
    expect(parseDigest(s)).toBe(s);
    expect(isDigest(s)).toBe(true);
  });

  test.each([
    ["uppercase hex", `sha256:${hex64.toUpperCase()}`],
    ["mixed-case hex", `sha256:${hex64.slice(0, 63)}A`],
    ["uppercase algorithm", `SHA256:${hex64}`],
    ["sha256 with 63 hex", `sha256:${hex64.slice(1)}`],
    ["sha256 with 65 hex", `sha256:${hex64}0`],
    ["sha256 with 128 hex", `sha256:${hex128}`],
    ["sha512 with 64 hex", `sha512:${hex64}`],
    ["sha512 with 127 hex", `sha512:${hex128.slice(1)}`],
    ["non-hex in sha256", `sha256:${hex64.slice(0, 63)}g`],
    ["md5 (unsupported)", "md5:d41d8cd98f00b204e9800998ecf8427e"],
    ["sha384 (unsupported)", `sha384:${"a".repeat(96)}`],
    ["multihash+base58 (grammatical, unsupported)", "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"],
    ["sha256+b64u (grammatical, unsupported)", "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"],
    ["empty encoded", "sha256:"],
    ["empty algorithm", `:${hex64}`],
    ["no colon", hex64],
    ["empty string", ""],
    ["two colons", `sha256:${hex64}:x`],
    ["leading space", ` sha256:${hex64}`],
    ["trailing newline", `sha256:${hex64}\n`],
    ["bad separator in algorithm", `sha256--x:${hex64}`],
    ["over 200 characters", `sha256:${"a".repeat(250)}`],
  ])("rejects %s with DIGEST_INVALID", (_, s) => {
    expect(isDigest(s)).toBe(false);
    let error: unknown;
    try {
      parseDigest(s);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OciError);
    expect((error as OciError).code).toBe("DIGEST_INVALID");
    expect((error as OciError).status).toBe(400);
    expect((error as OciError).detail).toMatchObject({ reason: expect.any(String) });
  });
});

describe("digest parts", () => {
  test.each([
    [`sha256:${hex64}`, "sha256", hex64],
    [`sha512:${hex128}`, "sha512", hex128],
  ])("%s", (s, algorithm, encoded) => {
    const d = parseDigest(s);
    expect(digestAlgorithm(d)).toBe(algorithm);
    expect(digestHex(d)).toBe(encoded);
  });
});

describe("digestOf", () => {
  test.each([
    ["sha256", "", `sha256:${hex64}`],
    ["sha512", "", `sha512:${hex128}`],
    ["sha256", "{}", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"],
  ] as const)("%s of %j", async (algorithm, text, expected) => {
    expect(await digestOf(algorithm, new TextEncoder().encode(text))).toBe(expected);
  });
});
