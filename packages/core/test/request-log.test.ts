import { afterEach, expect, test, vi } from "vitest";
import { OciError } from "../src/errors";
import { finishRequest, recordOutcome, startRequest, type MetricsSink } from "../src/request-log";

// The request log and metrics every worker shares (README "Logs, metrics and statistics").
afterEach(() => vi.restoreAllMocks());

function sink(): MetricsSink & { points: unknown[] } {
  const points: unknown[] = [];
  return { points, writeDataPoint: (p) => void points.push(p) };
}

async function logged(work: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await work();
    expect(spy).toHaveBeenCalledTimes(1);
    return JSON.parse(String(spy.mock.calls[0]![0])) as Record<string, unknown>;
  } finally {
    spy.mockRestore();
  }
}

test("one line and one data point: the error code from the envelope, lengths, client, the id in X-Request-Id", async () => {
  const request = new Request("http://r/v2/a/b/manifests/x", { headers: { "CF-Connecting-IP": "2001:db8:a:b::1" } });
  const record = startRequest("registry", request);
  Object.assign(record, { route: "manifest.get", repository: "a/b", subject: "robot$ci" });
  const metrics = sink();
  let response: Response | undefined;
  const line = await logged(async () => {
    response = await finishRequest(record, request, OciError.notFound("no such manifest").toResponse(), metrics);
  });
  expect(response!.headers.get("X-Request-Id")).toBe(record.id);
  expect(line).toMatchObject({ requestId: record.id, worker: "registry", route: "manifest.get", status: 404, bytesIn: null, client: "2001:db8:a:b::/64", subject: "robot$ci" });
  expect(typeof line.error).toBe("string");
  expect(metrics.points).toEqual([
    { blobs: ["registry", "request", "manifest.get", "a/b", "4xx", line.error, "GET", "", ""], doubles: [1, 0, line.bytesOut ?? 0, line.durationMs, 404], indexes: ["a/b"] },
  ]);
});

test("cf-ray is the id; a 500's own id wins; immutable headers are copied; a throwing sink is only a warning", async () => {
  const request = new Request("http://r/token", { headers: { "cf-ray": "abc123-AMS" } });
  expect(startRequest("auth", request).id).toBe("abc123-AMS");
  const internal = OciError.internal("the-500-id").toResponse();
  const record = startRequest("auth", request);
  const line = await logged(() => finishRequest(record, request, internal));
  expect(line.requestId).toBe("the-500-id");
  expect(line.error).toBe("UNKNOWN");

  const immutable = Response.redirect("http://elsewhere/", 302);
  vi.spyOn(console, "warn").mockImplementation(() => {});
  const broken = { writeDataPoint: () => { throw new Error("no AE here"); } };
  let answered: Response | undefined;
  await logged(async () => (answered = await finishRequest(startRequest("mirror", request), request, immutable, broken)));
  expect(answered!.status).toBe(302);
  expect(answered!.headers.get("X-Request-Id")).toBe("abc123-AMS");
});

test("outcomes: replication and GC runs as data points; nothing without a sink", () => {
  const metrics = sink();
  recordOutcome(metrics, "registry", "gc", "done", "", [1200, 4096, 1, 2, 3, 0]);
  recordOutcome(undefined, "registry", "gc", "done", "", []);
  expect(metrics.points).toEqual([{ blobs: ["registry", "gc", "done", ""], doubles: [1, 1200, 4096, 1, 2, 3, 0], indexes: ["registry"] }]);
});
