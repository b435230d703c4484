import { env } from "cloudflare:test";
import { DoPolicyStore, type GcOptions, type JobItem, type JobRun, type LifecycleJobs, type RetentionOptions } from "@registry/storage";
import { describe, expect, test } from "vitest";
import { adminFetch } from "../src/admin";
import worker, { type Env } from "../src/index";
import { BASE } from "./helpers";

/**
 * The admin API of garbage collection and retention (issue 10 §1, §2, §4): the run routes over a fake job runner
 * (validation, defaults, 409 while a run is under way, 503 without a runner, item paging passed through), and
 * the retention rules through the worker into the real RegistryPolicy Durable Object.
 */
const TOKEN = "secret";
const auth = { Authorization: `Bearer ${TOKEN}` };
const policy = new DoPolicyStore((env as unknown as Env).POLICY);

function runOf(id: string, kind: JobRun["kind"], options: GcOptions | RetentionOptions): JobRun {
  const counts = { manifests: 0, tags: 0, blobLinks: 0, blobs: 0, uploads: 0, bytesFreed: 0, errors: 0 };
  const progress = { phase: "repositories" as const, done: 0, total: null };
  return { id, kind, options, status: "running", phase: "repositories", progress, started: "2026-12-01T00:00:00.000Z", ended: null, counts, errors: [], ops: { doCalls: 0, classA: 0, classB: 0, deletes: 0, kvWrites: 0 } };
}

/** A LifecycleJobs that records its calls; one run at a time, 2,500 items per run. */
class FakeJobs implements LifecycleJobs {
  readonly calls: unknown[][] = [];
  readonly all: JobRun[] = [];
  current: JobRun | null = null;

  private begin(kind: JobRun["kind"], options: GcOptions | RetentionOptions) {
    if (this.current) return { run: this.current, started: false };
    this.current = runOf(`run${this.all.length + 1}`, kind, options);
    this.all.unshift(this.current);
    return { run: this.current, started: true };
  }
  async start(kind: "gc", options: GcOptions) {
    this.calls.push(["start", kind, options]);
    return this.begin(kind, options);
  }
  async startRetention(options: RetentionOptions) {
    this.calls.push(["startRetention", options]);
    return this.begin("retention", options);
  }
  async runs(n: number) {
    this.calls.push(["runs", n]);
    return this.all.slice(0, n);
  }
  async run(id: string) {
    return this.all.find((r) => r.id === id) ?? null;
  }
  async items(id: string, after: number, n: number) {
    this.calls.push(["items", id, after, n]);
    const items: JobItem[] = [];
    for (let i = after; i < Math.min(after + n, 2500); i++) items.push({ kind: "blob", repository: null, ref: `b${i}`, size: i });
    return { items, next: after + n < 2500 ? after + n : null };
  }
}

function call(jobs: LifecycleJobs | undefined, method: string, path: string, body?: unknown, token = TOKEN) {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return adminFetch(new Request(`${BASE}${path}`, init), TOKEN, { policy, jobs });
}

/** The answer's JSON after checking its status (read loosely: each test knows its shape). */
// biome-ignore lint/suspicious/noExplicitAny: answers of several shapes, checked by the expectations that read them
async function answer(res: Response | Promise<Response>, status: number): Promise<any> {
  const r = await res;
  const text = await r.text();
  expect(r.status, text).toBe(status);
  return text ? JSON.parse(text) : null;
}

describe("the admin API of garbage collection", () => {
  test("the admin token is required", async () => {
    await answer(call(new FakeJobs(), "POST", "/admin/gc", {}, "wrong"), 401);
    await answer(call(undefined, "GET", "/admin/gc/runs", undefined, "wrong"), 401);
  });

  test("without a job runner: 503 on the run routes", async () => {
    for (const [method, path] of [
      ["POST", "/admin/gc"],
      ["GET", "/admin/gc/runs"],
      ["GET", "/admin/gc/runs/x"],
      ["GET", "/admin/gc/runs/x/items"],
      ["POST", "/admin/retention/run"],
    ] as const) {
      expect(await answer(call(undefined, method, path), 503)).toEqual({ error: "garbage collection is not configured" });
    }
  });

  test("starts a run with the defaults, or with what the body says", async () => {
    const jobs = new FakeJobs();
    const { run } = await answer(call(jobs, "POST", "/admin/gc"), 202);
    expect(run).toMatchObject({ id: "run1", kind: "gc", status: "running" });
    expect(jobs.calls[0]).toEqual(["start", "gc", { dryRun: false, deleteUntagged: false, graceSeconds: 3600, uploadGraceSeconds: 86400 }]);
    jobs.current = null;
    const options = { dryRun: true, deleteUntagged: true, graceSeconds: 0, uploadGraceSeconds: 90.5 };
    await answer(call(jobs, "POST", "/admin/gc", options), 202);
    expect(jobs.calls[1]).toEqual(["start", "gc", options]);
  });

  test.each([
    ["not JSON", "{", /JSON/],
    ["not an object", "[1]", /object/],
    ["an unknown field", { dry_run: true }, /unknown field "dry_run"/],
    ["dryRun a string", { dryRun: "yes" }, /dryRun/],
    ["deleteUntagged a number", { deleteUntagged: 1 }, /deleteUntagged/],
    ["graceSeconds negative", { graceSeconds: -1 }, /graceSeconds/],
    ["graceSeconds a string", { graceSeconds: "1h" }, /graceSeconds/],
    ["uploadGraceSeconds null", { uploadGraceSeconds: null }, /uploadGraceSeconds/],
  ])("400 for a body with %s", async (_, body, message) => {
    const jobs = new FakeJobs();
    expect((await answer(call(jobs, "POST", "/admin/gc", body), 400)).error).toMatch(message);
    expect(jobs.calls).toEqual([]);
  });

  test("409 with the run under way, GC or retention", async () => {
    const jobs = new FakeJobs();
    await answer(call(jobs, "POST", "/admin/retention/run", { dryRun: true }), 202);
    expect(jobs.calls[0]).toEqual(["startRetention", { dryRun: true }]);
    const refused = await answer(call(jobs, "POST", "/admin/gc", { dryRun: true }), 409);
    expect(refused).toMatchObject({ error: "a run is already under way: run1", run: { id: "run1", kind: "retention" } });
    expect((await answer(call(jobs, "POST", "/admin/retention/run"), 409)).run.id).toBe("run1");
    expect((await answer(call(jobs, "POST", "/admin/retention/run", { dryRun: 1 }), 400)).error).toMatch(/dryRun/);
  });

  test("runs: newest first, n checked; one run, or 404", async () => {
    const jobs = new FakeJobs();
    for (let i = 0; i < 3; i++) {
      await answer(call(jobs, "POST", "/admin/gc"), 202);
      jobs.current = null;
    }
    expect((await answer(call(jobs, "GET", "/admin/gc/runs"), 200)).runs.map((r: JobRun) => r.id)).toEqual(["run3", "run2", "run1"]);
    expect(jobs.calls.at(-1)).toEqual(["runs", 20]);
    expect((await answer(call(jobs, "GET", "/admin/gc/runs?n=2"), 200)).runs).toHaveLength(2);
    for (const n of ["0", "101", "x", "1.5", "-1"]) await answer(call(jobs, "GET", `/admin/gc/runs?n=${n}`), 400);
    expect(await answer(call(jobs, "GET", "/admin/gc/runs/run2"), 200)).toMatchObject({ id: "run2", kind: "gc" });
    expect(await answer(call(jobs, "GET", "/admin/gc/runs/nope"), 404)).toEqual({ error: "no run nope" });
  });

  test("items: pages passed through; 404 for an unknown run; after and n checked", async () => {
    const jobs = new FakeJobs();
    await answer(call(jobs, "POST", "/admin/gc", { dryRun: true }), 202);
    const first = await answer(call(jobs, "GET", "/admin/gc/runs/run1/items"), 200);
    expect(jobs.calls.at(-1)).toEqual(["items", "run1", 0, 1000]);
    expect(first.items).toHaveLength(1000);
    expect(first.next).toBe(1000);
    const last = await answer(call(jobs, "GET", "/admin/gc/runs/run1/items?after=2000&n=1000"), 200);
    expect(last.items[0]).toEqual({ kind: "blob", repository: null, ref: "b2000", size: 2000 });
    expect(last.next).toBeNull();
    expect((await answer(call(jobs, "GET", "/admin/gc/runs/run1/items?after=10&n=5"), 200)).next).toBe(15);
    await answer(call(jobs, "GET", "/admin/gc/runs/nope/items"), 404);
    for (const q of ["n=0", "n=1001", "after=-1", "after=x"]) await answer(call(jobs, "GET", `/admin/gc/runs/run1/items?${q}`), 400);
  });
});

describe("the admin API of retention rules (the real RegistryPolicy object, through the worker)", () => {
  const admin = (path: string, init: RequestInit = {}) =>
    worker.fetch(new Request(`${BASE}${path}`, { ...init, headers: { ...auth, ...init.headers } }), {
      ...(env as unknown as Env),
      ADMIN_TOKEN: TOKEN,
    });
  const post = (body: unknown) => admin("/admin/retention", { method: "POST", body: JSON.stringify(body) });

  test("add, list, remove; the same rule twice is one rule", async () => {
    const rule = await answer(post({ repository: "ret/*", keepLast: 5, keepTags: "v*" }), 201);
    expect(rule).toMatchObject({ repository: "ret/*", keepLast: 5, keepTags: "v*", keepDays: null });
    expect(rule.id).toMatch(/^[\w-]+$/);
    expect(await answer(post({ repository: "ret/*", keepLast: 5, keepTags: "v*" }), 201)).toEqual(rule);
    const days = await answer(post({ repository: "ret/app", keepDays: 1.5 }), 201);
    const { rules } = await answer(admin("/admin/retention"), 200);
    expect(rules).toContainEqual(rule);
    expect(rules).toContainEqual(days);
    expect((await policy.retentionRules()).filter((r) => r.repository.startsWith("ret/"))).toHaveLength(2);
    expect((await admin(`/admin/retention/${rule.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await answer(admin(`/admin/retention/${rule.id}`, { method: "DELETE" }), 404)).toEqual({ error: `no retention rule ${rule.id}` });
    expect((await admin(`/admin/retention/${days.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await policy.retentionRules()).filter((r) => r.repository.startsWith("ret/"))).toEqual([]);
  });

  test.each([
    [{ repository: "Bad", keepLast: 1 }, /repository/],
    [{ repository: "ret/app" }, /at least one/],
    [{ repository: "ret/app", keepLast: -1 }, /keepLast/],
    [{ repository: "ret/app", keepTags: "a b" }, /keepTags/],
    [{ repository: "ret/app", keepDays: 0 }, /keepDays/],
    [{ repository: "ret/app", keepLast: 1, keep: 2 }, /unknown field/],
  ])("400 for %j", async (body, message) => {
    expect((await answer(post(body), 400)).error).toMatch(message);
  });

  test("the worker's GC and retention routes are behind the admin token", async () => {
    const wrong = { Authorization: "Bearer wrong" };
    for (const [method, path] of [
      ["POST", "/admin/gc"],
      ["GET", "/admin/gc/runs"],
      ["GET", "/admin/retention"],
      ["POST", "/admin/retention/run"],
    ] as const) {
      expect((await admin(path, { method, headers: wrong })).status, `${method} ${path}`).toBe(401);
    }
  });
});
