import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { edgeKey, type EdgeEntry } from "../../../packages/storage/src/edge-keys";
import { EdgeOutbox, retryDelayMs } from "../../../packages/storage/src/edge-outbox";
import type { Env } from "../src/index";

/**
 * The outbox that carries a repository's committed changes to the edge index, inside a real Durable Object with
 * a stand-in KV that fails or stalls on demand: a failed write never undoes or blocks anything, stays marked with
 * its error and is retried from the alarm; the last value published for a key is always the truth at that time.
 */
const e = env as unknown as Env;

/** A KV stand-in recording the last value per key; `fail` makes every write throw. */
function fakeKv() {
  const state = { fail: false, gate: undefined as Promise<void> | undefined, values: new Map<string, string>() };
  const kv = {
    async put(key: string, value: string) {
      if (state.gate) await state.gate;
      if (state.fail) throw new Error("KV PUT failed: 429 Too Many Requests");
      state.values.set(key, value);
    },
    async delete(key: string) {
      if (state.fail) throw new Error("KV DELETE failed");
      state.values.delete(key);
    },
  } as unknown as KVNamespace;
  return { kv, state };
}

function inObject(name: string, fn: (storage: DurableObjectStorage) => Promise<void>): Promise<void> {
  const stub = e.REPOSITORY_INDEX.get(e.REPOSITORY_INDEX.idFromName(name));
  return runInDurableObject(stub, (_instance, state) => fn(state.storage));
}

describe("edge outbox", () => {
  test("a failed KV write stays marked with its error, arms the alarm, and is published when retried", async () => {
    await inObject("edge/outbox-fail", async (storage) => {
      const { kv, state } = fakeKv();
      const entry: EdgeEntry = { kind: "tag", repository: "edge/outbox-fail", ref: "a" };
      const outbox = new EdgeOutbox(storage, kv, () => ({ value: "truth" }));
      state.fail = true;
      expect(outbox.mark([entry])).toBe(1);
      await outbox.publish();
      expect(outbox.count()).toBe(1);
      const row = storage.sql.exec("SELECT attempts, due, error FROM edge_outbox").one();
      expect(row.attempts).toBe(1);
      expect(String(row.error)).toContain("429");
      expect(await storage.getAlarm()).toBeLessThanOrEqual(row.due as number);

      state.fail = false;
      await outbox.publish(); // not due yet: nothing is retried before its time
      expect(outbox.count()).toBe(1);
      storage.sql.exec("UPDATE edge_outbox SET due = 0");
      await outbox.alarm();
      expect(outbox.count()).toBe(0);
      expect(state.values.get(edgeKey(entry))).toBe("truth");
    });
  });

  test("a key marked again while its write is in flight is published again with the newer truth", async () => {
    await inObject("edge/outbox-race", async (storage) => {
      const { kv, state } = fakeKv();
      let truth = "first";
      const entry: EdgeEntry = { kind: "tag", repository: "edge/outbox-race", ref: "t" };
      const outbox = new EdgeOutbox(storage, kv, () => ({ value: truth }));
      let open!: () => void;
      state.gate = new Promise((r) => (open = r));
      outbox.mark([entry]);
      const publishing = outbox.publish(); // reads "first", then waits on the gate
      truth = "second";
      outbox.mark([entry]);
      state.gate = undefined;
      open();
      await publishing;
      await outbox.publish();
      expect(state.values.get(edgeKey(entry))).toBe("second");
      expect(outbox.count()).toBe(0);
    });
  });

  test("a key the index no longer holds is deleted from KV", async () => {
    await inObject("edge/outbox-delete", async (storage) => {
      const { kv, state } = fakeKv();
      const entry: EdgeEntry = { kind: "manifest", repository: "edge/outbox-delete", ref: "sha256:00" };
      state.values.set(edgeKey(entry), "stale");
      const outbox = new EdgeOutbox(storage, kv, () => null);
      outbox.mark([entry]);
      await outbox.publish();
      expect(state.values.has(edgeKey(entry))).toBe(false);
    });
  });

  test("retries back off from 1 s to at most 5 minutes", () => {
    expect([1, 2, 3, 9, 20].map(retryDelayMs)).toEqual([1000, 2000, 4000, 256_000, 300_000]);
  });
});
