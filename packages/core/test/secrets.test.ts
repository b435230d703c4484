import { describe, expect, test } from "vitest";
import { constantTimeEqual, equalSecrets } from "../src/index";

describe("secrets compared in constant time", () => {
  test.each<[string, string, boolean]>([
    ["admin-token", "admin-token", true],
    ["admin-token", "admin-tokeN", false],
    ["admin-token", "admin-token-longer", false],
    ["", "", true],
    ["", "x", false],
  ])("%j = %j: %s", async (a, b, expected) => {
    expect(await equalSecrets(a, b)).toBe(expected);
  });

  test("byte strings: equal, different, different lengths", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });
});
