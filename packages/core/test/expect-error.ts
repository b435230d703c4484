import { expect } from "vitest";
import { OciError } from "../src/index";
import type { ErrorCode } from "../src/index";

/** Runs `fn`, expects it to throw an OciError with `code`, and returns the error. */
export function expectOciError(fn: () => unknown, code: ErrorCode): OciError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected OciError ${code}`).toBeInstanceOf(OciError);
  expect((thrown as OciError).code).toBe(code);
  return thrown as OciError;
}
