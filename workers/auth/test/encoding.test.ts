import { expect, test } from "vitest";
import { fromBase64Url, toBase64Url } from "../src/encoding";

test.each<[number[], string]>([
  [[], ""],
  [[0x41], "QQ"],
  [[0x41, 0x42], "QUI"],
  [[0x41, 0x42, 0x43], "QUJD"],
  [[0xfb, 0xff], "-_8"],
])("%j ↔ %j (unpadded base64url)", (bytes, text) => {
  expect(toBase64Url(Uint8Array.from(bytes))).toBe(text);
  expect([...fromBase64Url(text)!]).toEqual(bytes);
});

test.each(["Q", "QQ==", "Q+", "Q/", "a b", "QUJD\n", "ü"])("%j is not unpadded base64url", (text) => {
  expect(fromBase64Url(text)).toBeUndefined();
});

test("32 random bytes round-trip", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
});
