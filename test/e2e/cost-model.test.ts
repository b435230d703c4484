import { describe, expect, test } from "vitest";
// @ts-expect-error -- plain ESM script without types
import { DESIGNS, measuredOps, model, monthlyCost, PRICES, perPull } from "../../scripts/cost-model.mjs";

/**
 * The cost model of `pnpm cost` (scripts/cost-model.mjs, docs/COST.md) as a pure function: no system is started.
 * Figures are checked against hand computations on the published prices the script carries.
 */

type Cost = { workers: number; r2Ops: number; r2Storage: number; kv: number; do: number; total: number };
type Row = { design: string; pulls: number; cost: Cost; perPull: Record<string, number>; overDoSoftLimit: boolean };
const row = (rows: Row[], design: string, pulls: number) => rows.find((r) => r.design === design && r.pulls === pulls)!;
const params = { cpuMs: 3, doMs: 2, doRowsRead: 2, isolateHit: 0, kvMiss: 0, imageGb: 0.2, gross: false };

describe("cost model", () => {
  test("one pull without measured ops: 11 Worker requests, 9 DO calls before KV, 9 KV reads after, 6 R2 reads", () => {
    const { rows, source } = model(null) as { rows: Row[]; source: string };
    expect(source).toBe("design");
    expect(row(rows, "before", 10e6).perPull).toMatchObject({ workerRequests: 11, do: 9, kvRead: 0, r2B: 6 });
    expect(row(rows, "after", 10e6).perPull).toMatchObject({ workerRequests: 11, do: 0, kvRead: 9, r2B: 6 });
    expect(row(rows, "r2", 10e6).perPull).toMatchObject({ workerRequests: 10, do: 0, kvRead: 0, r2B: 9 });
  });

  test("10 M pulls before KV, by hand: requests, CPU, R2 reads and DO calls past what the plan includes", () => {
    const { rows } = model(null, params) as { rows: Row[] };
    const c = row(rows, "before", 10e6).cost;
    expect(c.workers).toBeCloseTo(5 + (110 - 10) * 0.3 + (330 - 30) * 0.02, 6);
    expect(c.r2Ops).toBeCloseTo((60 - 10) * 0.36, 6);
    expect(c.do).toBeCloseTo((90 - 1) * 0.15, 6); // duration and rows read stay within what is included
    expect(c.kv).toBe(0);
    expect(c.r2Storage).toBe(0); // 0.2 GB inside the 10 GB-month included
    expect(c.total).toBeCloseTo(c.workers + c.r2Ops + c.do, 6);
  });

  test("gross prices: the 200 MB cost 0.2 x $0.015, nothing is included, no subscription", () => {
    const u = perPull(DESIGNS.after, DESIGNS.after.ops, DESIGNS.before.ops, params);
    const { cost } = monthlyCost(1e9, u, { ...params, gross: true }) as { cost: Cost };
    expect(cost.r2Storage).toBeCloseTo(0.2 * PRICES.r2.storageGbMonth.perUnit, 9);
    expect(cost.kv).toBeCloseTo(9000 * PRICES.kv.reads.perMillion, 6);
    expect(cost.workers).toBeCloseTo(11000 * 0.3 + 33000 * 0.02, 6);
  });

  test("one repository is one Durable Object: its billed wall time is at most the month, its rate is flagged", () => {
    const u = { workerRequests: 0, cpuMs: 0, do: 9, kvRead: 0, kvWrite: 0, r2A: 0, r2B: 0 };
    const slow = monthlyCost(1e9, u, { ...params, doMs: 1000, gross: true }) as { cost: Cost; overDoSoftLimit: boolean };
    const duration = 30 * 86400 * PRICES.durableObjects.memoryGb * (PRICES.durableObjects.gbSeconds.perMillion / 1e6);
    expect(slow.cost.do).toBeCloseTo(9000 * 0.15 + duration + 18000 * 0.001, 6);
    expect(slow.overDoSoftLimit).toBe(true);
  });

  test("in-isolate cache hits spare manifest KV reads only; KV misses go to the origin and backfill KV", () => {
    const hit = perPull(DESIGNS.after, DESIGNS.after.ops, DESIGNS.before.ops, { ...params, isolateHit: 1 });
    expect(hit).toMatchObject({ kvRead: 6, do: 0 });
    const miss = perPull(DESIGNS.after, DESIGNS.after.ops, DESIGNS.before.ops, { ...params, kvMiss: 0.5 });
    expect(miss).toMatchObject({ kvRead: 9, kvWrite: 4.5, do: 4.5, r2B: 6 });
  });

  test("measured ops from the bench are used when complete, the manifest isolate-cache hits counted as KV reads", () => {
    const zero = { do: 0, kvRead: 0, kvWrite: 0, r2A: 0, r2B: 0 };
    const ops = {
      pull: {
        edge: { manifestByTag: zero, manifestByDigest: { kvRead: 1 }, blob: { kvRead: 1, r2B: 2 } },
        origin: { manifestByTag: { do: 1 }, manifestByDigest: { do: 1 }, blob: { do: 1, r2B: 2 } },
      },
    };
    const measured = measuredOps(ops);
    expect(measuredOps({ pull: { edge: ops.pull.edge } })).toBeNull();
    expect(measuredOps(undefined)).toBeNull();
    const { rows, source } = model(measured) as { rows: Row[]; source: string };
    expect(source).toBe("measured");
    expect(row(rows, "after", 1e9).perPull).toMatchObject({ kvRead: 9, r2B: 12, do: 0 });
    expect(row(rows, "before", 1e9).perPull).toMatchObject({ do: 9, r2B: 12 });
  });
});
