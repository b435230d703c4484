import type { RepositoryName } from "@registry/core";
import { describe, expect, test } from "vitest";
import type { Indexes } from "../src/indexes";
import { PullStats } from "../src/pull-stats";
import type { PullCount } from "../src/repository-stats";

/** Pull statistics are written in batches: the first pull an isolate sees at once, then one write a minute at most. */
function recorder() {
  const writes: { repository: string; batch: PullCount[]; at: number }[] = [];
  const indexes = {
    repository: (repository: string) => ({
      recordPulls: async (batch: PullCount[], at: number) => {
        writes.push({ repository, batch, at });
      },
    }),
  } as unknown as Indexes;
  return { writes, stats: new PullStats(indexes, 60_000) };
}

const repo = (name: string) => name as RepositoryName;

describe("PullStats", () => {
  test("counts pulls in memory and writes a repository's batch at most once per period", async () => {
    const { writes, stats } = recorder();
    await stats.note(repo("a"), "v1", 1_000);
    expect(writes).toEqual([{ repository: "a", batch: [{ tag: "v1", count: 1 }], at: 1_000 }]);
    for (const t of [2_000, 3_000, 4_000]) expect(stats.note(repo("a"), "v1", t)).toBeUndefined();
    expect(stats.note(repo("a"), "v2", 5_000)).toBeUndefined();
    expect(writes).toHaveLength(1);
    await stats.note(repo("a"), "v1", 61_000);
    expect(writes[1]).toEqual({ repository: "a", batch: [{ tag: "v1", count: 4 }, { tag: "v2", count: 1 }], at: 61_000 });
  });

  test("repositories are batched apart", async () => {
    const { writes, stats } = recorder();
    await stats.note(repo("a"), "x", 0);
    await stats.note(repo("b"), "x", 10);
    expect(writes.map((w) => w.repository)).toEqual(["a", "b"]);
  });
});
