import { describe, expect, test } from "vitest";
// @ts-expect-error -- plain ESM script without types
import * as costModel from "../../scripts/cost-model.mjs";

/**
 * The cost model of `pnpm cost` (scripts/cost-model.mjs, docs/COST.md) as a pure function: no system is started.
 * Figures are checked against hand computations on the published prices the script carries.
 */
const { DESIGNS, breakEven, coloMissShare, measuredOps, model, monthlyCost, PRICES, perPull } = costModel;

type Cost = { workers: number; r2Ops: number; r2Storage: number; kv: number; do: number; total: number };
type Row = {
  design: string;
  pulls: number;
  cost: Cost;
  perPull: Record<string, number>;
  overDoSoftLimit: boolean;
  coloMiss: number | null;
};
type Result = { rows: Row[]; source: string; breakEven: number | null };
const row = (rows: Row[], design: string, pulls: number) => rows.find((r) => r.design === design && r.pulls === pulls)!;
const params = { ...costModel.DEFAULTS, cpuMs: 3, doMs: 2, doRowsRead: 2, isolateHit: 0, kvMiss: 0, imageGb: 0.2, gross: false };
const MONTH = 30 * 86400;

describe("cost model", () => {
  test("one pull without measured ops: 9 DO calls before KV; with the Cache API at colo-miss 0 one KV read (the tag), on workers.dev 9", () => {
    const { rows, source } = model(null, { coloMiss: 0 }) as Result;
    expect(source).toBe("design");
    expect(row(rows, "before", 10e6).perPull).toMatchObject({ workerRequests: 11, do: 9, kvRead: 0, r2B: 6 });
    for (const pulls of [10e6, 1e9]) {
      expect(row(rows, "edge", pulls).perPull).toMatchObject({ workerRequests: 11, do: 0, kvRead: 1, r2B: 6 });
      expect(row(rows, "edge", pulls).cost.kv).toBeCloseTo(Math.max(0, pulls - 10e6) * 0.5e-6, 6);
    }
    expect(row(rows, "edgeWorkersDev", 1e9).perPull).toMatchObject({ workerRequests: 11, do: 0, kvRead: 9, r2B: 6 });
    expect(row(rows, "r2", 10e6).perPull).toMatchObject({ workerRequests: 10, do: 0, kvRead: 0, r2B: 9 });
  });

  test("the Cache API miss share: 1 / (1 + pulls/s per data centre x TTL), per volume; digest requests read KV only on a miss", () => {
    const miss = (pulls: number) => 1 / (1 + (pulls / MONTH / 330) * 25);
    expect(coloMissShare(10e6, params)).toBeCloseTo(miss(10e6), 12);
    expect(coloMissShare(1e9, params)).toBeCloseTo(miss(1e9), 12);
    expect(miss(10e6)).toBeGreaterThan(0.75); // 0.0117 pulls/s per data centre: most entries expire unused
    expect(miss(1e9)).toBeLessThan(0.04); // 1.17 pulls/s per data centre
    expect(coloMissShare(1e9, { ...params, coloMiss: 0.2 })).toBe(0.2); // fixed by --colo-miss
    expect(coloMissShare(1e9, { ...params, isolateHit: 0.5 })).toBeCloseTo(1 / (1 + (1e9 / MONTH / 330) * 0.5 * 25), 12);
    const { rows } = model(null, params) as Result;
    for (const pulls of [10e6, 1e9]) {
      const r = row(rows, "edge", pulls);
      expect(r.coloMiss).toBeCloseTo(miss(pulls), 12);
      expect(r.perPull.kvRead).toBeCloseTo(1 + 8 * miss(pulls), 9); // the tag, + 2 manifests and 6 blob records on a miss
    }
    expect(row(rows, "edgeWorkersDev", 1e9).coloMiss).toBeNull();
  });

  test("10 M pulls before KV, by hand: requests, CPU, R2 reads and DO calls past what the plan includes", () => {
    const { rows } = model(null, params) as Result;
    const c = row(rows, "before", 10e6).cost;
    expect(c.workers).toBeCloseTo(5 + (110 - 10) * 0.3 + (330 - 30) * 0.02, 6);
    expect(c.r2Ops).toBeCloseTo((60 - 10) * 0.36, 6);
    expect(c.do).toBeCloseTo((90 - 1) * 0.15, 6); // duration and rows read stay within what is included
    expect(c.kv).toBe(0);
    expect(c.r2Storage).toBe(0); // 0.2 GB inside the 10 GB-month included
    expect(c.total).toBeCloseTo(c.workers + c.r2Ops + c.do, 6);
  });

  test("gross prices: the 200 MB cost 0.2 x $0.015, nothing is included, no subscription", () => {
    const u = perPull(DESIGNS.edgeWorkersDev, DESIGNS.edgeWorkersDev.ops, DESIGNS.before.ops, params);
    const { cost } = monthlyCost(1e9, u, { ...params, gross: true }) as { cost: Cost };
    expect(cost.r2Storage).toBeCloseTo(0.2 * PRICES.r2.storageGbMonth.perUnit, 9);
    expect(cost.kv).toBeCloseTo(9000 * PRICES.kv.reads.perMillion, 6);
    expect(cost.workers).toBeCloseTo(11000 * 0.3 + 33000 * 0.02, 6);
  });

  test("one repository is one Durable Object: its billed wall time is at most the month, its rate is flagged", () => {
    const u = { workerRequests: 0, cpuMs: 0, do: 9, kvRead: 0, kvWrite: 0, r2A: 0, r2B: 0 };
    const slow = monthlyCost(1e9, u, { ...params, doMs: 1000, gross: true }) as { cost: Cost; overDoSoftLimit: boolean };
    const duration = MONTH * PRICES.durableObjects.memoryGb * (PRICES.durableObjects.gbSeconds.perMillion / 1e6);
    expect(slow.cost.do).toBeCloseTo(9000 * 0.15 + duration + 18000 * 0.001, 6);
    expect(slow.overDoSoftLimit).toBe(true);
  });

  test("in-isolate cache hits spare edge KV reads; KV misses go to the origin and backfill KV", () => {
    const dev = (p: object) => perPull(DESIGNS.edgeWorkersDev, DESIGNS.edgeWorkersDev.ops, DESIGNS.before.ops, { ...params, ...p });
    expect(dev({ isolateHit: 1 })).toMatchObject({ kvRead: 0, do: 0, r2B: 6 });
    expect(dev({ isolateHit: 0.5 })).toMatchObject({ kvRead: 4.5 });
    expect(dev({ kvMiss: 0.5 })).toMatchObject({ kvRead: 9, kvWrite: 4.5, do: 4.5, r2B: 6 });
    const edge = perPull(DESIGNS.edge, DESIGNS.edge.ops, DESIGNS.before.ops, { ...params, kvMiss: 1 }, 0);
    expect(edge).toMatchObject({ kvRead: 1, kvWrite: 1, do: 1 }); // only the tag reaches KV, so only it can miss
  });

  test("measured ops: a measured Cache API or isolate hit counts as the KV read it spares, so shares are not applied twice", () => {
    const zero = { do: 0, kvRead: 0, kvWrite: 0, r2A: 0, r2B: 0 };
    const ops = {
      pull: {
        // the tag from KV; the digest requests answered by the Cache API (no KV read), the blob's bytes from R2
        edge: { manifestByTag: { kvRead: 1 }, manifestByDigest: zero, blob: { r2B: 2 } },
        origin: { manifestByTag: { do: 1 }, manifestByDigest: { do: 1 }, blob: { do: 1, r2B: 2 } },
      },
    };
    const measured = measuredOps(ops);
    expect(measuredOps({ pull: { edge: ops.pull.edge } })).toBeNull();
    expect(measuredOps(undefined)).toBeNull();
    const hit = model(measured, { coloMiss: 0 }) as Result;
    expect(hit.source).toBe("measured");
    expect(row(hit.rows, "edge", 1e9).perPull).toMatchObject({ kvRead: 1, r2B: 12, do: 0 });
    expect(row(hit.rows, "edgeWorkersDev", 1e9).perPull).toMatchObject({ kvRead: 9, r2B: 12, do: 0 });
    expect(row(hit.rows, "before", 1e9).perPull).toMatchObject({ do: 9, r2B: 12 });
    const half = model(measured, { coloMiss: 0.5 }) as Result;
    expect(row(half.rows, "edge", 1e9).perPull.kvRead).toBeCloseTo(1 + 8 * 0.5, 9);
  });

  test("break-even: above it the edge with the Cache API costs less than the Durable Object design", () => {
    const b = breakEven(null, params) as number;
    expect(b).toBeGreaterThan(50e6);
    expect(b).toBeLessThan(300e6);
    const total = (design: string, pulls: number): number => {
      const coloMiss = design === "edge" ? coloMissShare(pulls, params) : 1;
      const u = perPull(DESIGNS[design], DESIGNS[design].ops, DESIGNS.before.ops, params, coloMiss);
      return monthlyCost(pulls, u, params).cost.total;
    };
    expect(total("edge", b * 0.98)).toBeGreaterThan(total("before", b * 0.98));
    expect(total("edge", b * 1.02)).toBeLessThan(total("before", b * 1.02));
    expect((model(null, params) as Result).breakEven).toBeCloseTo(b, 0);
    expect(breakEven(null, { ...params, coloMiss: 1 })).toBeNull(); // every digest request reads KV: never cheaper
    expect(breakEven(null, { ...params, colos: 30 })).toBe(0); // concentrated traffic: cheaper from 1 M pulls up
  });
});
