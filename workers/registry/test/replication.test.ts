import { env } from "cloudflare:test";
import { DoReplicationStore, type ReplicationExecution, type ReplicationRule } from "@registry/storage";
import type { ReplicateRequest, SourceReader } from "@registry/replication";
import { describe, expect, test } from "vitest";
import { adminFetch } from "../src/admin";
import type { Env } from "../src/index";
import { consumeReplication, retryDelay, type ConsumerDeps } from "../src/replication/consumer";
import { emitReplicationEvents, messagesFor, RuleCache, type MessageSender } from "../src/replication/events";
import { ruleCovers, targetRepositoryOf, type ReplicationMessage } from "../src/replication/rules";

/**
 * Replication as a service of the registry (issue 11 §1): the rules and history Durable Object, the admin API, the
 * push events (which rules a manifest PUT/DELETE queues), and the queue consumer (records, retries with backoff,
 * credentials from the bindings) over a fake copy engine and a fake target.
 */
const store = new DoReplicationStore((env as unknown as Env).REPLICATION);
const TOKEN = "secret";

function rule(over: Partial<ReplicationRule> = {}): ReplicationRule {
  return {
    id: "r1",
    repository: "replicated/*",
    tags: "*",
    referrers: true,
    deletions: false,
    target: { url: "https://replica.example", credentials: "REPLICA_CREDENTIALS" },
    targetRepository: null,
    created: "2026-12-01T00:00:00.000Z",
    ...over,
  };
}

/** A queue producer that keeps what it is sent. */
class FakeQueue implements MessageSender {
  readonly sent: ReplicationMessage[] = [];
  async sendBatch(messages: Iterable<MessageSendRequest<ReplicationMessage>>) {
    for (const m of messages) this.sent.push(m.body);
  }
}

describe("the ReplicationLog Durable Object", () => {
  test("rules: defaults, the same rule twice is one, removal", async () => {
    const a = await store.addRule({ repository: "org/*", target: { url: "https://t.example", credentials: "T_CREDS" } });
    expect(a).toMatchObject({ repository: "org/*", tags: "*", referrers: true, deletions: false, targetRepository: null });
    expect(await store.addRule({ repository: "org/*", target: { url: "https://t.example", credentials: "T_CREDS" } })).toEqual(a);
    const b = await store.addRule({ repository: "org/app", tags: "v*", referrers: false, deletions: true, target: { url: "https://t.example", credentials: null } });
    expect((await store.rules()).map((r) => r.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await store.rule(b.id)).toEqual(b);
    expect(await store.removeRule(a.id)).toBe(true);
    expect(await store.removeRule(a.id)).toBe(false);
    expect(await store.rule(a.id)).toBeNull();
  });

  test("executions: attempts update one row; history is newest first", async () => {
    const e: ReplicationExecution = {
      id: "x1", rule: "r1", repository: "replicated/app", reference: "1", op: "copy", trigger: "push",
      started: "2026-12-01T00:00:00.000Z", ended: null, bytes: 0, outcome: "running", attempts: 1, error: null,
    };
    await store.record(e);
    await store.record({ ...e, outcome: "retrying", attempts: 1, error: "connection refused", ended: "2026-12-01T00:00:01.000Z" });
    await store.record({ ...e, id: "x2", reference: "2" });
    await store.record({ ...e, outcome: "ok", attempts: 2, bytes: 1234, ended: "2026-12-01T00:00:05.000Z" });
    const history = await store.history(10);
    expect(history.map((h) => h.id).slice(0, 2)).toEqual(["x2", "x1"]);
    expect(history.find((h) => h.id === "x1")).toMatchObject({ outcome: "ok", attempts: 2, bytes: 1234, error: null });
    expect(await store.history(1)).toHaveLength(1);
  });
});

describe("the admin API", () => {
  const queue = new FakeQueue();
  const manifests = {
    listRepositories: async () => ({ items: ["other/x", "replicated/app", "replicated/web"], more: false }),
    listTags: async (repo: string) => ({ items: repo === "replicated/app" ? ["1", "2", `sha256-${"a".repeat(64)}.sig`] : ["latest"], more: false }),
  } as never;
  const call = (method: string, path: string, body?: unknown) =>
    adminFetch(
      new Request(`http://registry${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
      TOKEN,
      { policy: {} as never, replication: { store, queue, manifests } },
    );

  test("rules are validated, added, listed and removed", async () => {
    const bad = [
      { repository: "Bad Name", target: { url: "https://r.example" } },
      { repository: "a/*", target: { url: "ftp://r.example" } },
      { repository: "a/*", target: { url: "https://r.example/path" } },
      { repository: "a/*", tags: "v[0-9]", target: { url: "https://r.example" } },
      { repository: "a/*", target: { url: "https://r.example", credentials: "lower-case" } },
      { repository: "a/*", targetRepository: "b", target: { url: "https://r.example" } },
      { repository: "a/*", referrers: "yes", target: { url: "https://r.example" } },
      { repository: "a/*", target: { url: "https://r.example" }, extra: 1 },
    ];
    for (const body of bad) expect((await call("POST", "/admin/replication", body)).status, JSON.stringify(body)).toBe(400);
    const res = await call("POST", "/admin/replication", { repository: "replicated/*", tags: "v*", target: { url: "http://127.0.0.1:5083/", credentials: "REPLICA_CREDENTIALS" }, targetRepository: "copies/*" });
    expect(res.status).toBe(201);
    const added = (await res.json()) as ReplicationRule;
    expect(added).toMatchObject({ tags: "v*", target: { url: "http://127.0.0.1:5083", credentials: "REPLICA_CREDENTIALS" }, targetRepository: "copies/*" });
    const { rules } = (await (await call("GET", "/admin/replication")).json()) as { rules: ReplicationRule[] };
    expect(rules.map((r) => r.id)).toContain(added.id);
    expect((await call("DELETE", `/admin/replication/${added.id}`)).status).toBe(204);
    expect((await call("DELETE", `/admin/replication/${added.id}`)).status).toBe(404);
  });

  test("run queues every covered tag (not cosign's), or one reference; history lists executions", async () => {
    const r = (await (await call("POST", "/admin/replication", { repository: "replicated/*", target: { url: "https://r.example" } })).json()) as ReplicationRule;
    queue.sent.length = 0;
    const all = await call("POST", "/admin/replication/run", { rule: r.id });
    expect(all.status).toBe(202);
    expect(await all.json()).toEqual({ queued: 3, truncated: false });
    expect(queue.sent.map((m) => `${m.repository}:${m.reference}`)).toEqual(["replicated/app:1", "replicated/app:2", "replicated/web:latest"]);
    expect(queue.sent.every((m) => m.trigger === "manual" && m.rule === r.id && m.op === "copy")).toBe(true);
    queue.sent.length = 0;
    expect((await call("POST", "/admin/replication/run", { rule: r.id, reference: `replicated/app@sha256:${"b".repeat(64)}` })).status).toBe(202);
    expect(queue.sent[0]).toMatchObject({ repository: "replicated/app", reference: `sha256:${"b".repeat(64)}` });
    expect((await call("POST", "/admin/replication/run", { rule: r.id, reference: "other/x:1" })).status).toBe(400);
    expect((await call("POST", "/admin/replication/run", { rule: r.id, reference: "nope" })).status).toBe(400);
    expect((await call("POST", "/admin/replication/run", { rule: "missing" })).status).toBe(404);
    const history = await call("GET", "/admin/replication/history?n=5");
    expect(history.status).toBe(200);
    expect(((await history.json()) as { executions: unknown[] }).executions.length).toBeGreaterThan(0);
    expect((await call("GET", "/admin/replication/history?n=0")).status).toBe(400);
  });

  test("without the binding: 503", async () => {
    const res = await adminFetch(new Request("http://registry/admin/replication", { headers: { Authorization: `Bearer ${TOKEN}` } }), TOKEN, { policy: {} as never });
    expect(res.status).toBe(503);
  });
});

describe("push events", () => {
  const sub = `sha256:${"c".repeat(64)}`;
  const put = { op: "put" as const, repository: "replicated/app", digest: `sha256:${"d".repeat(64)}`, subject: null };
  const rules = [rule({ id: "all" }), rule({ id: "v", tags: "v*" }), rule({ id: "noref", referrers: false }), rule({ id: "del", deletions: true }), rule({ id: "other", repository: "other/*" })];
  const ids = (ms: ReplicationMessage[]) => ms.map((m) => `${m.rule}:${m.op}:${m.reference}${m.referrerPush ? "(referrer)" : ""}`);

  test.each([
    ["a tag push: rules whose glob matches", { ...put, reference: "1" }, ["all:copy:1", "noref:copy:1", "del:copy:1"]],
    ["a tag the v* filter matches", { ...put, reference: "v2" }, ["all:copy:v2", "v:copy:v2", "noref:copy:v2", "del:copy:v2"]],
    ["a cosign .sig tag: its subject's tree, for rules with referrers", { ...put, reference: `sha256-${"c".repeat(64)}.sig` }, [`all:copy:${sub}(referrer)`, `v:copy:${sub}(referrer)`, `del:copy:${sub}(referrer)`]],
    ["an OCI referrer by digest (OCI-Subject)", { ...put, reference: put.digest, subject: sub }, [`all:copy:${sub}(referrer)`, `v:copy:${sub}(referrer)`, `del:copy:${sub}(referrer)`]],
    ["a manifest by digest without subject (an index's child): nothing", { ...put, reference: put.digest }, []],
    ["a tag deleted: only rules that replicate deletions", { ...put, op: "delete" as const, reference: "1" }, ["del:delete:1"]],
    ["another repository: nothing", { ...put, repository: "elsewhere/app", reference: "1" }, []],
  ])("%s", (_name, event, expected) => {
    expect(ids(messagesFor(rules, event))).toEqual(expected);
  });

  test("the middleware queues after a 2xx manifest PUT/DELETE only, and a queue failure never fails the push", async () => {
    const queue = new FakeQueue();
    const cache = new RuleCache({ rules: async () => [rule()] });
    const middleware = emitReplicationEvents(cache, queue);
    const matched = (method: string, reference: string) => ({
      route: { method, path: "/v2/:name+/manifests/:reference" } as never,
      request: new Request("http://r/", { method }),
      url: new URL("http://r/"),
      params: { name: "replicated/app", reference },
    });
    const answer = (status: number) => async () => new Response(null, { status, headers: { "Docker-Content-Digest": put.digest } });
    expect((await middleware(matched("PUT", "1"), answer(201))).status).toBe(201);
    expect((await middleware(matched("PUT", "2"), answer(400))).status).toBe(400);
    expect((await middleware(matched("GET", "3"), answer(200))).status).toBe(200);
    expect(queue.sent.map((m) => [m.trigger, m.reference])).toEqual([["push", "1"]]);
    const failing = emitReplicationEvents(cache, { sendBatch: async () => Promise.reject(new Error("queue down")) });
    expect((await failing(matched("PUT", "1"), answer(201))).status).toBe(201);
  });

  test("the rules are read once per few seconds", async () => {
    let reads = 0;
    const cache = new RuleCache(
      {
        rules: async () => {
          reads++;
          return [rule()];
        },
      },
      60_000,
    );
    await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(reads).toBe(1);
  });

  test("coverage and target names", () => {
    expect(ruleCovers(rule({ tags: "v*" }), "replicated/app", "v1")).toBe(true);
    expect(ruleCovers(rule({ tags: "v*" }), "replicated/app", "latest")).toBe(false);
    expect(ruleCovers(rule(), "replicated", "1")).toBe(false);
    expect(targetRepositoryOf(rule(), "replicated/a/b")).toBe("replicated/a/b");
    expect(targetRepositoryOf(rule({ targetRepository: "copies/*" }), "replicated/a/b")).toBe("copies/a/b");
    expect(targetRepositoryOf(rule({ repository: "*", targetRepository: "backup/*" }), "x/y")).toBe("backup/x/y");
    expect(targetRepositoryOf(rule({ repository: "x/y", targetRepository: "z" }), "x/y")).toBe("z");
  });
});

/** A queue message whose ack/retry are recorded. */
function message(body: ReplicationMessage, attempts = 1) {
  const m = { id: body.id, timestamp: new Date(), body, attempts, acked: false, retried: undefined as number | undefined };
  return Object.assign(m, {
    ack: () => {
      m.acked = true;
    },
    retry: (o?: { delaySeconds?: number }) => {
      m.retried = o?.delaySeconds ?? 0;
    },
  });
}

const D_ONE = `sha256:${"1".repeat(64)}`;
const D_V1 = `sha256:${"2".repeat(64)}`;

describe("the queue consumer", () => {
  const source = { tags: async () => ["1", "v1"], manifest: async (_r: string, ref: string) => ({ digest: ref === "v1" ? D_V1 : D_ONE }) } as unknown as SourceReader;
  const job = (over: Partial<ReplicationMessage> = {}): ReplicationMessage => ({
    id: crypto.randomUUID(), rule: "c1", op: "copy", repository: "replicated/app", reference: "1", trigger: "push", queued: new Date().toISOString(), ...over,
  });
  const requests: string[] = [];
  /** The target: answers 503 while `down`, else 201; every request noted with its Authorization. */
  let down = false;
  const target: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push(`${request.method} ${request.url} ${request.headers.get("Authorization") ?? ""}`);
    return down ? new Response('{"errors":[{"code":"UNAVAILABLE","message":"target is down"}]}', { status: 503 }) : new Response(null, { status: 201 });
  };
  /** A copy engine over the target: one PUT of the reference with Basic credentials, 42 bytes. */
  const replicate = async (req: ReplicateRequest) => {
    const auth = `Basic ${btoa(`${req.target.username}:${req.target.password}`)}`;
    const res = await req.fetch!(`${req.target.url}/v2/${req.targetRepository}/manifests/${req.reference}`, { method: "PUT", headers: { Authorization: auth } });
    if (!res.ok) throw new Error(`${req.target.url}: ${res.status} ${await res.text()}`);
    return { manifests: 1, blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, bytes: 42, referrers: 0, tagSchema: false };
  };
  const deps = (over: Partial<ConsumerDeps> = {}): ConsumerDeps => ({
    store,
    source,
    secrets: { REPLICA_CREDENTIALS: "robot$replica:s3cret" },
    replicate,
    deleteReplica: async (req) => (await req.fetch!(`${req.target.url}/v2/${req.repository}/manifests/${req.reference}`, { method: "DELETE" })).ok,
    fetch: target,
    retryBaseSec: 2,
    maxAttempts: 3,
    ...over,
  });

  test("a copy: the target's credentials from the bindings, the execution recorded ok with its bytes, acked", async () => {
    const r = await store.addRule({ repository: "replicated/*", target: { url: "https://replica.example", credentials: "REPLICA_CREDENTIALS" }, targetRepository: "copies/*" });
    const m = message(job({ rule: r.id }));
    const points: unknown[] = [];
    await consumeReplication([m as never], deps({ metrics: { writeDataPoint: (p) => points.push(p) } }));
    expect(m.acked).toBe(true);
    // One Analytics Engine data point for the outcome (README "Logs, metrics and statistics").
    expect(points).toEqual([{ blobs: ["registry", "replication", "ok", "replicated/app"], doubles: [expect.any(Number), expect.any(Number), 42, 1], indexes: ["replicated/app"] }]);
    expect(requests.at(-1)).toBe(`PUT https://replica.example/v2/copies/app/manifests/1 Basic ${btoa("robot$replica:s3cret")}`);
    expect((await store.history(50)).find((e) => e.id === m.body.id)).toMatchObject({ outcome: "ok", bytes: 42, attempts: 1, trigger: "push", error: null });
  });

  test("a failing target: retried with a growing delay, the target's message recorded, failed after the last attempt", async () => {
    const r = await store.addRule({ repository: "replicated/*", tags: "*", target: { url: "https://down.example", credentials: "REPLICA_CREDENTIALS" } });
    down = true;
    const body = job({ rule: r.id });
    const delays: (number | undefined)[] = [];
    for (const attempts of [1, 2]) {
      const m = message(body, attempts);
      await consumeReplication([m as never], deps());
      expect(m.acked).toBe(false);
      delays.push(m.retried);
      expect((await store.history(50)).find((e) => e.id === body.id)).toMatchObject({ outcome: "retrying", attempts, error: expect.stringContaining("target is down") });
    }
    expect(delays).toEqual([2, 4]);
    const last = message(body, 3);
    await consumeReplication([last as never], deps());
    expect(last.acked).toBe(true);
    expect((await store.history(50)).find((e) => e.id === body.id)).toMatchObject({ outcome: "failed", attempts: 3 });
    down = false;
    const again = message(job({ rule: r.id }), 1);
    await consumeReplication([again as never], deps());
    expect((await store.history(50)).find((e) => e.id === again.body.id)).toMatchObject({ outcome: "ok" });
    expect([1, 2, 3, 20].map((a) => retryDelay(a, 30))).toEqual([30, 60, 120, 3600]);
  });

  test("a missing secret is the execution's error; deletions go through deleteReplica; referrers only where their subject went", async () => {
    const r = await store.addRule({ repository: "replicated/*", tags: "v*", deletions: true, target: { url: "https://t2.example", credentials: "NOT_SET" } });
    const m = message(job({ rule: r.id, reference: "v1" }));
    await consumeReplication([m as never], deps());
    expect((await store.history(50)).find((e) => e.id === m.body.id)?.error).toContain("NOT_SET");
    const open = await store.addRule({ repository: "replicated/*", tags: "v*", deletions: true, target: { url: "https://t3.example", credentials: null } });
    const del = message(job({ rule: open.id, op: "delete", reference: "v1" }));
    await consumeReplication([del as never], deps());
    expect(requests.at(-1)).toBe("DELETE https://t3.example/v2/replicated/app/manifests/v1 ");
    const before = requests.length;
    const notUnderFilter = message(job({ rule: open.id, reference: D_ONE, referrerPush: true }));
    await consumeReplication([notUnderFilter as never], deps());
    expect(notUnderFilter.acked).toBe(true);
    expect(requests.length).toBe(before);
    const underFilter = message(job({ rule: open.id, reference: D_V1, referrerPush: true }));
    await consumeReplication([underFilter as never], deps());
    expect(requests.at(-1)).toContain(`https://t3.example/v2/replicated/app/manifests/${D_V1}`);
    const unknownRule = message(job({ rule: "gone" }));
    await consumeReplication([unknownRule as never], deps());
    expect(unknownRule.acked).toBe(true);
  });
});
