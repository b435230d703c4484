import { describe, expect, test } from "vitest";
import { ERROR_CODES, OciError, STATUS_VARIANTS, isOciError } from "../src/index";
import type { ErrorCode, StatusVariant } from "../src/index";

// distribution-spec "Error Codes": the 14 codes, and the statuses this registry answers them with; and
// distribution's UNKNOWN (what a failing upstream is answered with, status 502/503/504 given at the throw).
const codes: [ErrorCode, number, string][] = [
  ["BLOB_UNKNOWN", 404, "blob unknown to registry"],
  ["BLOB_UPLOAD_INVALID", 400, "blob upload invalid"],
  ["BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"],
  ["DIGEST_INVALID", 400, "provided digest did not match uploaded content"],
  ["MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry"],
  ["MANIFEST_INVALID", 400, "manifest invalid"],
  ["MANIFEST_UNKNOWN", 404, "manifest unknown to registry"],
  ["NAME_INVALID", 400, "invalid repository name"],
  ["NAME_UNKNOWN", 404, "repository name not known to registry"],
  ["SIZE_INVALID", 400, "provided length did not match content length"],
  ["UNAUTHORIZED", 401, "authentication required"],
  ["DENIED", 403, "requested access to the resource is denied"],
  ["UNSUPPORTED", 405, "the operation is unsupported"],
  ["TOOMANYREQUESTS", 429, "too many requests"],
  ["UNKNOWN", 500, "unknown error"],
];

describe("ERROR_CODES", () => {
  test("has exactly the spec's 14 codes and UNKNOWN", () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual(codes.map(([c]) => c).sort());
  });

  test.each(codes)("%s → %i %s", async (code, status, message) => {
    expect(ERROR_CODES[code]).toEqual({ status, message });
    const error = new OciError(code);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.message).toBe(message);
    const response = error.toResponse();
    expect(response.status).toBe(status);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({ errors: [{ code, message }] });
  });
});

describe("OciError", () => {
  test.each([
    ["string detail", "bad thing", { errors: [{ code: "NAME_INVALID", message: "invalid repository name", detail: "bad thing" }] }],
    ["object detail", { name: "Foo" }, { errors: [{ code: "NAME_INVALID", message: "invalid repository name", detail: { name: "Foo" } }] }],
    ["null detail is kept", null, { errors: [{ code: "NAME_INVALID", message: "invalid repository name", detail: null }] }],
    ["undefined detail is omitted", undefined, { errors: [{ code: "NAME_INVALID", message: "invalid repository name" }] }],
  ])("toJSON with %s", (_, detail, expected) => {
    const error = new OciError("NAME_INVALID", { detail });
    expect(error.toJSON()).toEqual(expected);
    expect(JSON.parse(JSON.stringify(error))).toEqual(expected);
  });

  test.each<[ErrorCode, Record<string, string>]>([
    ["UNAUTHORIZED", { "WWW-Authenticate": 'Bearer realm="https://auth.example/token",service="registry"' }],
    ["TOOMANYREQUESTS", { "Retry-After": "30" }],
    ["BLOB_UPLOAD_INVALID", { Range: "0-99", "Docker-Upload-UUID": "u1" }],
  ])("%s carries its headers", async (code, headers) => {
    const response = new OciError(code, { headers }).toResponse();
    for (const [name, value] of Object.entries(headers)) expect(response.headers.get(name)).toBe(value);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe(code);
  });

  test.each(codes.map(([c, s]) => [c, s] as const))("HEAD response for %s has status %i and no body", async (code, status) => {
    const response = new OciError(code).toResponse(true);
    expect(response.status).toBe(status);
    expect(response.body).toBeNull();
    expect(await response.text()).toBe("");
  });

  test("status and message overrides", async () => {
    const error = new OciError("SIZE_INVALID", { status: 413, message: "manifest too big" });
    const response = error.toResponse();
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ errors: [{ code: "SIZE_INVALID", message: "manifest too big" }] });
  });

  test("a failing upstream: UNKNOWN with a gateway status and a message that names it", async () => {
    const message = "upstream docker.io (https://registry-1.docker.io) timed out after 30 s";
    const response = new OciError("UNKNOWN", { status: 504, message, detail: { upstream: "docker.io" } }).toResponse();
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ errors: [{ code: "UNKNOWN", message, detail: { upstream: "docker.io" } }] });
  });

  test("headers are copied, not shared", () => {
    const headers = { "Retry-After": "1" };
    const error = new OciError("TOOMANYREQUESTS", { headers });
    headers["Retry-After"] = "2";
    expect(error.headers).toEqual({ "Retry-After": "1" });
  });

  test("is an Error with a stable name", () => {
    const error = new OciError("DENIED");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("OciError");
  });
});

describe("status variants: the only statuses besides the table's, each named", () => {
  test("every variant is a spec code answered with another status", () => {
    for (const [name, { code, status }] of Object.entries(STATUS_VARIANTS)) {
      expect(ERROR_CODES[code].status, name).not.toBe(status);
      const error = new OciError(name as StatusVariant, { detail: "d" });
      expect([error.code, error.status, error.message, error.detail]).toEqual([code, status, ERROR_CODES[code].message, "d"]);
    }
  });

  test.each<[string, OciError, ErrorCode, number, Record<string, string>]>([
    ["uploadRangeInvalid", OciError.uploadRangeInvalid({ headers: { Range: "0-9" } }), "BLOB_UPLOAD_INVALID", 416, { Range: "0-9" }],
    ["rangeNotSatisfiable", OciError.rangeNotSatisfiable(10), "SIZE_INVALID", 416, { "Content-Range": "bytes */10" }],
    ["tooLarge", OciError.tooLarge("big"), "SIZE_INVALID", 413, {}],
    ["badParameter", OciError.badParameter("n"), "UNSUPPORTED", 400, {}],
    ["notFound", OciError.notFound("nope"), "UNSUPPORTED", 404, {}],
    ["challenge", OciError.challenge('Bearer realm="r"', "no token"), "UNAUTHORIZED", 401, { "WWW-Authenticate": 'Bearer realm="r"' }],
    ["challenge, insufficient", OciError.challenge('Bearer realm="r",error="insufficient_scope"', "scope", true), "DENIED", 401, { "WWW-Authenticate": 'Bearer realm="r",error="insufficient_scope"' }],
    ["internal", OciError.internal("req-1"), "UNKNOWN", 500, { "X-Request-Id": "req-1" }],
  ])("OciError.%s → %s %i with its headers", async (_, error, code, status, headers) => {
    const response = error.toResponse();
    expect(response.status).toBe(status);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    for (const [name, value] of Object.entries(headers)) expect(response.headers.get(name)).toBe(value);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe(code);
  });

  test("internal names the request id in the detail too", () => {
    expect(OciError.internal("req-2").toJSON()).toEqual({ errors: [{ code: "UNKNOWN", message: "unknown error", detail: { requestId: "req-2" } }] });
  });
});

describe("isOciError", () => {
  test.each([
    ["an OciError", new OciError("DENIED"), true],
    ["a plain Error", new Error("x"), false],
    ["an error-like object", { code: "DENIED", status: 403 }, false],
    ["null", null, false],
    ["a string", "DENIED", false],
  ])("%s → %s", (_, value, expected) => {
    expect(isOciError(value)).toBe(expected);
  });
});
