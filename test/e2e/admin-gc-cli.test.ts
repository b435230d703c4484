import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";

/**
 * `pnpm admin gc …` and `pnpm admin retention …` (scripts/admin/gc.mjs, retention.mjs, progress.mjs) as child
 * processes against a node:http stand-in for the registry's /admin/gc and /admin/retention: a run advances one
 * phase per poll, so following, paging through items and 409 can be checked without the real job runner.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "s3cret-admin";
const PHASES = ["repositories", "blobs", "uploads", "orphans", "done"];

type Run = {
  id: string;
  kind: "gc" | "retention";
  options: Record<string, unknown>;
  status: string;
  phase: string;
  progress: { phase: string; done: number; total: number | null };
  started: string;
  ended: string | null;
  counts: Record<string, number>;
  errors: { item: string; error: string; at: string }[];
};
type Item = { kind: string; repository: string | null; ref: string; size: number };

let server: Server;
let base: string;
let runs: Run[];
let items: Map<string, Item[]>;
let posted: { path: string; body: unknown }[];
let polls: Map<string, number>;
let itemPages: string[];
let rules: Record<string, unknown>[];
let configured: boolean;

function send(res: ServerResponse, status: number, body?: unknown) {
  res.writeHead(status, body === undefined ? {} : { "Content-Type": "application/json" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

function newRun(kind: Run["kind"], options: Record<string, unknown>): Run {
  const counts = { manifests: 0, tags: 0, blobLinks: 0, blobs: 0, uploads: 0, bytesFreed: 0, errors: 0 };
  const run: Run = {
    id: `run${runs.length + 1}`,
    kind,
    options,
    status: "running",
    phase: "repositories",
    progress: { phase: "repositories", done: 0, total: 4 },
    started: new Date(Date.UTC(2026, 11, 1, 12, 0, runs.length)).toISOString(),
    ended: null,
    counts,
    errors: [],
  };
  const list: Item[] = [];
  for (let i = 0; i < 2500; i++) list.push({ kind: i % 2 ? "blob" : "manifest", repository: "app", ref: `sha256:${String(i).padStart(64, "0")}`, size: 1024 * i });
  items.set(run.id, kind === "gc" ? list : [{ kind: "tag", repository: "app", ref: "old", size: 0 }]);
  runs.unshift(run);
  return run;
}

/** Each poll moves a run one phase on; at "done" it has deleted what its items say. */
function advance(run: Run) {
  if (run.status !== "running") return;
  const next = PHASES[PHASES.indexOf(run.phase) + 1] ?? "done";
  run.phase = next;
  run.progress = { phase: next, done: 2, total: next === "blobs" ? null : 4 };
  if (next === "done") {
    run.status = "done";
    run.ended = new Date(Date.parse(run.started) + 65_000).toISOString();
    const list = items.get(run.id) ?? [];
    run.counts.manifests = list.filter((i) => i.kind === "manifest").length;
    run.counts.blobs = list.filter((i) => i.kind === "blob").length;
    run.counts.tags = list.filter((i) => i.kind === "tag").length;
    run.counts.bytesFreed = list.reduce((sum, i) => sum + i.size, 0);
    run.counts.errors = 1;
    run.errors = [{ item: "blob sha256:dead", error: "R2 delete failed", at: run.ended }];
  }
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  let text = "";
  for await (const chunk of req) text += chunk;
  const url = new URL(req.url ?? "/", "http://x");
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: "admin token required" });
  const body = text ? JSON.parse(text) : undefined;
  if (req.method === "POST") posted.push({ path: url.pathname, body });
  if (url.pathname.startsWith("/admin/gc") || url.pathname === "/admin/retention/run") {
    if (!configured) return send(res, 503, { error: "garbage collection is not configured" });
  }
  if (req.method === "POST" && (url.pathname === "/admin/gc" || url.pathname === "/admin/retention/run")) {
    const running = runs.find((r) => r.status === "running");
    if (running) return send(res, 409, { error: `a run is already under way: ${running.id}`, run: running });
    return send(res, 202, { run: newRun(url.pathname === "/admin/gc" ? "gc" : "retention", body) });
  }
  if (req.method === "GET" && url.pathname === "/admin/gc/runs") {
    return send(res, 200, { runs: runs.slice(0, Number(url.searchParams.get("n") ?? 20)) });
  }
  const runPath = /^\/admin\/gc\/runs\/([^/]+)(\/items)?$/.exec(url.pathname);
  if (req.method === "GET" && runPath) {
    const run = runs.find((r) => r.id === runPath[1]);
    if (!run) return send(res, 404, { error: `no run ${runPath[1]}` });
    if (runPath[2]) {
      itemPages.push(url.search);
      const after = Number(url.searchParams.get("after") ?? 0);
      const n = Number(url.searchParams.get("n") ?? 1000);
      const list = items.get(run.id) ?? [];
      return send(res, 200, { items: list.slice(after, after + n), next: after + n < list.length ? after + n : null });
    }
    polls.set(run.id, (polls.get(run.id) ?? 0) + 1);
    advance(run);
    return send(res, 200, run);
  }
  if (url.pathname === "/admin/retention" && req.method === "GET") return send(res, 200, { rules });
  if (url.pathname === "/admin/retention" && req.method === "POST") {
    if (body.repository === "Bad") return send(res, 400, { error: 'repository must be "*", "org/*" or a repository name' });
    const rule = { id: `k${rules.length + 1}`, keepLast: null, keepTags: null, keepDays: null, ...body, created: "2026-12-01T00:00:00.000Z" };
    rules.push(rule);
    return send(res, 201, rule);
  }
  const rule = /^\/admin\/retention\/([^/]+)$/.exec(url.pathname);
  if (rule && req.method === "DELETE") {
    const i = rules.findIndex((r) => r.id === rule[1]);
    if (i < 0) return send(res, 404, { error: `no retention rule ${rule[1]}` });
    rules.splice(i, 1);
    return send(res, 204);
  }
  send(res, 404, { error: "not found" });
}

type Result = { code: number; stdout: string; stderr: string };

/** `pnpm admin <args>` against the stand-in (stderr is not a terminal: one progress line per phase). */
function admin(...args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["REGISTRY_URL", "AUTH_URL", "ADMIN_TOKEN"]) delete env[key];
  const argv = [path.join(ROOT, "scripts/admin/cli.mjs"), ...args, "--registry", base, "--token", TOKEN];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { env, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  runs = [];
  items = new Map();
  posted = [];
  polls = new Map();
  itemPages = [];
  rules = [];
  configured = true;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("pnpm admin gc", () => {
  test("--dry-run --json: posts the options, follows the run until done, prints the run and every item (paged)", async () => {
    const result = await admin("gc", "--dry-run", "--grace", "90m", "--json");
    expect(result.code, result.stderr).toBe(0);
    expect(posted).toEqual([{ path: "/admin/gc", body: { dryRun: true, deleteUntagged: false, graceSeconds: 5400 } }]);
    expect(polls.get("run1")).toBe(4);
    const out = JSON.parse(result.stdout) as Run & { items: Item[] };
    expect(out).toMatchObject({ id: "run1", kind: "gc", status: "done", phase: "done" });
    expect(out.items).toEqual(items.get("run1"));
    expect(itemPages).toEqual(["?after=0&n=1000", "?after=1000&n=1000", "?after=2000&n=1000"]);
    expect(result.stderr).toContain("started garbage collection run run1 (dry run)");
    for (const phase of PHASES) expect(result.stderr).toContain(`gc run1: ${phase}\n`);
  });

  test("durations: 0, seconds, minutes, hours, days; a bad one is a usage error", async () => {
    expect((await admin("gc", "--grace", "0", "--upload-grace", "2d", "--delete-untagged", "--json")).code).toBe(0);
    expect(posted[0]?.body).toEqual({ dryRun: false, deleteUntagged: true, graceSeconds: 0, uploadGraceSeconds: 172800 });
    expect((await admin("gc", "--grace", "90s", "--upload-grace", "1.5h", "--json")).code).toBe(0);
    expect(posted[1]?.body).toMatchObject({ graceSeconds: 90, uploadGraceSeconds: 5400 });
    const bad = await admin("gc", "--grace", "5x");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--grace takes a duration like 0, 90s, 30m, 1h or 2d (got "5x")');
    expect(posted).toHaveLength(2);
  });

  test("a readable summary: counts, bytes freed, duration, errors; a dry run lists what it would delete", async () => {
    const result = await admin("gc", "--dry-run");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("garbage collection run run1 (dry run)");
    expect(result.stdout).toMatch(/manifests \(would delete\)\s+1250\n/);
    expect(result.stdout).toMatch(/blobs \(would delete\)\s+1250\n/);
    expect(result.stdout).toMatch(/bytes \(would free\)\s+2\.98 GiB \(3198720000 bytes\)\n/);
    expect(result.stdout).toMatch(/duration\s+1m 05s\n/);
    expect(result.stdout).toMatch(/errors\s+1\n/);
    expect(result.stdout).toMatch(/blob sha256:dead\s+R2 delete failed/);
    expect(result.stdout).toContain("it would delete 2500 items:");
    expect(result.stdout).toMatch(/^KIND\s+REPOSITORY\s+REF\s+SIZE$/m);
    expect(result.stdout).toMatch(new RegExp(`^blob\\s+app\\s+sha256:${"0".repeat(61)}999\\s+999\\.0 KiB$`, "m"));
  });

  test("a real run prints the summary and where to find its items", async () => {
    const result = await admin("gc");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/bytes freed\s+2\.98 GiB/);
    expect(result.stdout).toContain("`pnpm admin gc show run1` lists what it deleted.");
    expect(itemPages).toEqual([]);
  });

  test("409: a run already under way is followed instead, and says so", async () => {
    newRun("retention", { dryRun: false });
    const result = await admin("gc", "--dry-run", "--json");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("a run is already under way, not starting another: following retention run run1 instead");
    expect(JSON.parse(result.stdout)).toMatchObject({ id: "run1", kind: "retention", status: "done", items: [{ kind: "tag", ref: "old" }] });
    expect(runs).toHaveLength(1);
  });

  test("history and show; an unknown run says where the ids are; 503 passes the registry's words", async () => {
    await admin("gc", "--dry-run", "--json");
    await admin("retention", "run", "--json");
    const history = (await admin("gc", "history")).stdout.trimEnd().split("\n");
    expect(history[0]).toMatch(/^ID\s+KIND\s+DRY\s+STARTED\s+DURATION\s+STATUS\s+MANIFESTS\s+TAGS\s+BLOBS\s+UPLOADS\s+FREED\s+ERRORS$/);
    expect(history[1]?.split(/\s{2,}/)).toEqual(["run2", "retention", runs[0]?.started, "1m 05s", "done", "0", "1", "0", "0", "0 B", "1"]);
    expect(history[2]?.split(/\s{2,}/)).toEqual(["run1", "gc", "dry", runs[1]?.started, "1m 05s", "done", "1250", "0", "1250", "0", "2.98 GiB", "1"]);
    expect(JSON.parse((await admin("gc", "history", "--json")).stdout).runs).toHaveLength(2);

    const shown = await admin("gc", "show", "run2");
    expect(shown.stdout).toContain("retention run run2");
    expect(shown.stdout).toMatch(/^tag\s+app\s+old\s+-$/m);
    expect(JSON.parse((await admin("gc", "show", "run1", "--json")).stdout).items).toHaveLength(2500);
    const missing = await admin("gc", "show", "nope");
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toBe("admin: no run nope; `pnpm admin gc history` lists them\n");
    expect((await admin("gc", "history", "--dry-run")).code).toBe(2);

    configured = false;
    const closed = await admin("gc");
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain("POST /admin/gc → 503 garbage collection is not configured");
  });
});

describe("pnpm admin retention", () => {
  test("add, list, remove; options are checked before anything is sent", async () => {
    const added = await admin("retention", "add", "org/*", "--keep-last", "5", "--keep-tags", "v*", "--keep-days", "30");
    expect(added.code, added.stderr).toBe(0);
    expect(posted[0]?.body).toEqual({ repository: "org/*", keepLast: 5, keepTags: "v*", keepDays: 30 });
    expect(added.stdout).toBe(
      "added k1: in org/* keep the last 5 pushed, tags matching v*, tags pushed or pulled within 30 days; retention runs remove the other tags\n",
    );
    await admin("retention", "add", "app", "--keep-days", "0.5");
    const [header, first, second] = (await admin("retention", "list")).stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+REPOSITORY\s+KEEP LAST\s+KEEP TAGS\s+KEEP DAYS\s+CREATED$/);
    expect(first?.split(/\s+/)).toEqual(["k1", "org/*", "5", "v*", "30", "2026-12-01T00:00:00.000Z"]);
    expect(second?.split(/\s+/)).toEqual(["k2", "app", "-", "-", "0.5", "2026-12-01T00:00:00.000Z"]);
    expect(await admin("retention", "remove", "k1")).toMatchObject({ code: 0, stdout: "removed k1\n" });
    expect((await admin("retention", "remove", "k1")).stderr).toContain("404 no retention rule k1");
    expect((await admin("retention", "add", "Bad", "--keep-last", "1")).stderr).toContain("400 repository must be");

    for (const args of [
      ["retention", "add", "app"],
      ["retention", "add", "app", "--keep-last", "-1"],
      ["retention", "add", "app", "--keep-last", "x"],
      ["retention", "add", "app", "--keep-days", "0"],
      ["retention", "list", "--keep-last", "1"],
      ["retention", "add", "app", "--keep-last", "1", "--dry-run"],
      ["gc", "--keep-last", "1"],
    ]) {
      expect((await admin(...args)).code, args.join(" ")).toBe(2);
    }
    expect(posted).toHaveLength(3);
  });

  test("run --dry-run follows the run and lists the tags it would remove", async () => {
    const result = await admin("retention", "run", "--dry-run");
    expect(result.code, result.stderr).toBe(0);
    expect(posted).toEqual([{ path: "/admin/retention/run", body: { dryRun: true } }]);
    expect(result.stdout).toContain("retention run run1 (dry run)");
    expect(result.stdout).toMatch(/tags \(would remove\)\s+1\n/);
    expect(result.stdout).toContain("it would delete 1 items:");
  });
});
