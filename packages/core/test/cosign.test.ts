import { describe, expect, test } from "vitest";
import { derToRawSignature, parseCosignPublicKey, parseSimpleSigning, verifyCosign, type TrustedKey } from "../src/index";

/**
 * cosign signatures verified with WebCrypto: fixtures made by openssl (what cosign writes: DER ECDSA-SHA256) and
 * keys made here by WebCrypto. The openssl fixtures were made with
 *   openssl ecparam -name prime256v1 -genkey -noout -out k.pem && openssl ec -in k.pem -pubout -out pub.pem
 *   openssl dgst -sha256 -sign k.pem -out sig payload && base64 -w0 sig
 * (the tests run in workerd too, where no openssl can be called).
 */
const OPENSSL_PUB = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENwTnxmjmUys4c3Oj+eukPfC774Ib
KCifYjAeFBxA91scG11ZG5Rdnkffk0uCgNhRu8dhlhtxKz9f4pEaUrQn8A==
-----END PUBLIC KEY-----
`;
const OPENSSL_DIGEST = "sha256:0b8b3b1ea0b25d0e4b2ac0e7cbe4dd2e6cd6c09b8a3bb1c0d4d1fa3a7c1f2a3b";
const OPENSSL_PAYLOAD = new TextEncoder().encode(
  `{"critical":{"identity":{"docker-reference":"registry.test/app"},"image":{"docker-manifest-digest":"${OPENSSL_DIGEST}"},"type":"cosign container image signature"},"optional":null}`,
);
const OPENSSL_SIG = "MEYCIQCI8FJb0ZeWwj0LvtahUa44hCmiNFsc6ZZSIHMC4kTuUAIhAPfBDRZwc1DjdZZIJU/f637oDMqYj0Lobrm2iruGkZ+H";
const P384_PUB = `-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE3B1hLt4OzBJEc1cE+R8Z+jLFznIsAgkk
GzgHxGYSv1ge0ZMlSGlXdmSl2mySd4HUTRcOIWTiBvrYAYjYgiO0sKrnGp32QFNH
81xHBwYaaqj7sT/hCz06zMwgSdX3I6Cj
-----END PUBLIC KEY-----`;
const ED25519_PUB = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAXc+FjRpcwnVxpUSODtDSEG2xzbE4S/Z859/cxm3zdAw=
-----END PUBLIC KEY-----`;

const cosign = (pem: string): TrustedKey => ({ kind: "cosign", pem });
const payloadFor = (digest: string) =>
  new TextEncoder().encode(
    JSON.stringify({
      critical: { identity: { "docker-reference": "r/app" }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" },
      optional: { creator: "test" },
    }),
  );
const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** A WebCrypto P-256 key: its PEM, and a signer giving cosign's base64 DER signature. */
async function webCryptoKey(): Promise<{ pem: string; sign(payload: Uint8Array): Promise<string> }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  const pem = `-----BEGIN PUBLIC KEY-----\n${base64(spki).match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
  return {
    pem,
    async sign(payload) {
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, payload));
      return base64(rawToDer(raw));
    },
  };
}

function rawToDer(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const t = [...b.subarray(i)];
    const v = t[0]! & 0x80 ? [0, ...t] : t;
    return [0x02, v.length, ...v];
  };
  const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

describe("cosign public keys", () => {
  test("an openssl P-256 PEM and a WebCrypto one parse", async () => {
    expect((await parseCosignPublicKey(OPENSSL_PUB)).algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    await expect(parseCosignPublicKey((await webCryptoKey()).pem)).resolves.toBeTruthy();
  });

  test.each([
    ["another curve (P-384)", P384_PUB, /P-256/],
    ["another algorithm (Ed25519)", ED25519_PUB, /P-256/],
    ["a private key's armour", OPENSSL_PUB.replace(/PUBLIC/g, "PRIVATE"), /PEM public key/],
    ["not base64", "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----", /PEM public key/],
    ["empty", "", /PEM public key/],
  ])("%s is refused", async (_, pem, message) => {
    await expect(parseCosignPublicKey(pem)).rejects.toThrow(message);
  });
});

describe("simple-signing payloads", () => {
  test("cosign's payload gives its digest and reference", () => {
    expect(parseSimpleSigning(OPENSSL_PAYLOAD)).toEqual({ manifestDigest: OPENSSL_DIGEST, dockerReference: "registry.test/app" });
  });

  test.each([
    ["not JSON", "{"],
    ["another type", '{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:1"},"type":"atomic"}}'],
    ["no digest", '{"critical":{"identity":{"docker-reference":"r"},"image":{},"type":"cosign container image signature"}}'],
    ["no identity", '{"critical":{"image":{"docker-manifest-digest":"sha256:1"},"type":"cosign container image signature"}}'],
    ["an array", "[]"],
  ])("%s is not one", (_, text) => {
    expect(parseSimpleSigning(new TextEncoder().encode(text))).toBeNull();
  });
});

describe("DER signatures as r||s", () => {
  test("leading zero bytes are dropped and short integers left-padded", () => {
    const der = new Uint8Array([0x30, 0x08, 0x02, 0x02, 0x00, 0x80, 0x02, 0x02, 0x01, 0x02]);
    const raw = derToRawSignature(der)!;
    expect(raw.length).toBe(64);
    expect(raw[31]).toBe(0x80);
    expect([raw[62], raw[63]]).toEqual([1, 2]);
  });

  test.each([
    ["trailing bytes", [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]],
    ["not a sequence", [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]],
    ["a missing integer", [0x30, 0x03, 0x02, 0x01, 0x01]],
    ["an integer too long", [0x30, 0x25, 0x02, 0x21, 1, ...new Array<number>(32).fill(1), 0x02, 0x01, 0x01]],
  ])("%s is refused", (_, bytes) => {
    expect(derToRawSignature(new Uint8Array(bytes))).toBeNull();
  });
});

describe("verifyCosign", () => {
  test("an openssl signature (cosign's DER format) verifies with its key", async () => {
    expect(await verifyCosign(OPENSSL_PAYLOAD, OPENSSL_SIG, [cosign(OPENSSL_PUB)], OPENSSL_DIGEST)).toEqual({ ok: true, keyIndex: 0, reason: "verified" });
  });

  test("a WebCrypto key's signature verifies; the index is that of the key that verified", async () => {
    const [a, b] = [await webCryptoKey(), await webCryptoKey()];
    const digest = `sha256:${"1".repeat(64)}`;
    const payload = payloadFor(digest);
    const sig = await b.sign(payload);
    expect(await verifyCosign(payload, sig, [cosign(a.pem), cosign(b.pem)], digest)).toMatchObject({ ok: true, keyIndex: 1 });
  });

  test("many signatures verify (r and s with and without a leading zero)", async () => {
    const key = await webCryptoKey();
    const digest = `sha256:${"2".repeat(64)}`;
    const payload = payloadFor(digest);
    for (let i = 0; i < 20; i++) expect((await verifyCosign(payload, await key.sign(payload), [cosign(key.pem)], digest)).ok).toBe(true);
  });

  test.each<[string, () => Promise<[Uint8Array, string, TrustedKey[], string]>, RegExp]>([
    ["an untrusted key", async () => [OPENSSL_PAYLOAD, OPENSSL_SIG, [cosign((await webCryptoKey()).pem)], OPENSSL_DIGEST], /none of the trusted keys/],
    ["no keys", async () => [OPENSSL_PAYLOAD, OPENSSL_SIG, [], OPENSSL_DIGEST], /none of the trusted keys/],
    ["a payload for another digest", async () => [OPENSSL_PAYLOAD, OPENSSL_SIG, [cosign(OPENSSL_PUB)], `sha256:${"3".repeat(64)}`], /is for sha256:0b8b/],
    [
      "a payload changed after signing",
      async () => [new TextEncoder().encode(new TextDecoder().decode(OPENSSL_PAYLOAD).replace("registry.test", "evil.test")), OPENSSL_SIG, [cosign(OPENSSL_PUB)], OPENSSL_DIGEST],
      /none of the trusted keys/,
    ],
    ["a signature that is not base64", async () => [OPENSSL_PAYLOAD, "not base64!", [cosign(OPENSSL_PUB)], OPENSSL_DIGEST], /not base64 of a DER/],
    ["a raw r||s signature instead of DER", async () => [OPENSSL_PAYLOAD, base64(new Uint8Array(64).fill(1)), [cosign(OPENSSL_PUB)], OPENSSL_DIGEST], /DER/],
    ["a payload that is not simple signing", async () => [new TextEncoder().encode("{}"), OPENSSL_SIG, [cosign(OPENSSL_PUB)], OPENSSL_DIGEST], /not a cosign simple-signing/],
    ["a trusted key that does not parse", async () => [OPENSSL_PAYLOAD, OPENSSL_SIG, [cosign(P384_PUB)], OPENSSL_DIGEST], /none of the trusted keys/],
  ])("%s does not count", async (_, make, reason) => {
    const verdict = await verifyCosign(...(await make()));
    expect(verdict.ok).toBe(false);
    expect(verdict.keyIndex).toBeUndefined();
    expect(verdict.reason).toMatch(reason);
  });
});
