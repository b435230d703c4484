import { env, runInDurableObject } from "cloudflare:test";
import { DoPolicyStore, type JobItem, type LifecycleRunner, type RegistryPolicy, type RepositoryIndex } from "@registry/storage";
import { describe, expect, test } from "vitest";
import { call, pushImage } from "./helpers";

/**
 * Retention runs in workerd: rules from the registry's policy object, tags pushed through the API, the run through
 * the lifecycle runner (dry, then real); immutable and cosign tags are never removed; pull times are recorded by a
 * pull by tag, at most once an hour per isolate.
 */
const e = env as unknown as {
  LIFECYCLE: DurableObjectNamespace<LifecycleRunner>;
  POLICY: DurableObjectNamespace<RegistryPolicy>;
  REPOSITORY_INDEX: DurableObjectNamespace<RepositoryIndex>;
};
const runner = () => e.LIFECYCLE.get(e.LIFECYCLE.idFromName("lifecycle"));
const policy = new DoPolicyStore(e.POLICY);
const index = (repo: string) => e.REPOSITORY_INDEX.get(e.REPOSITORY_INDEX.idFromName(repo));

async function retention(dryRun: boolean): Promise<JobItem[]> {
  const { run, started } = await runner().start("retention", { dryRun });
  expect(started).toBe(true);
  for (let i = 0; (await runner().run(run.id))!.status === "running"; i++) {
    if (i > 600) throw new Error("retention run did not finish");
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await runner().items(run.id, 0, 1000)).items;
}

const tags = async (repo: string) => ((await (await call({ path: `/v2/${repo}/tags/list` })).json()) as { tags: string[] }).tags.sort();
const removed = (items: JobItem[], repo: string) => items.filter((i) => i.repository === repo && i.kind === "tag").map((i) => i.ref).sort();

describe("retention", () => {
  test("keep-last, keep-tags and immutable rules; cosign tags stay; the dry run lists what the run removes", async () => {
    const repo = "ret/app";
    const other = "ret/other";
    const pushed = [];
    for (const t of ["1", "2", "3", "4", "release-1"]) {
      pushed.push(await pushImage(repo, t, [`layer ${t}`]));
      await new Promise((r) => setTimeout(r, 5)); // distinct push times
    }
    const cosign = `${pushed[0]!.digest.replace(":", "-")}.sig`;
    await pushImage(repo, cosign, ["signature"]);
    await pushImage(other, "keep-me", ["x"]);
    const last2 = await policy.addRetentionRule({ repository: "ret/app", keepLast: 2, keepTags: null, keepDays: null });
    const releases = await policy.addRetentionRule({ repository: "ret/*", keepLast: null, keepTags: "release-*", keepDays: null });
    const immutable = await policy.addImmutableRule("ret/app", "1");
    try {
      const dry = await retention(true);
      // Kept: 4 and release-1 (the last two pushed; release-1 also by glob), 1 (immutable), the cosign tag.
      expect(removed(dry, repo)).toEqual(["2", "3"]);
      expect(await tags(repo)).toContain("2");
      const real = await retention(false);
      expect(removed(real, repo)).toEqual(removed(dry, repo));
      expect(await tags(repo)).toEqual(["1", "4", "release-1", cosign].sort());
      // ret/other matches only the release-* rule: keep-me is removed.
      expect(removed(real, other)).toEqual(["keep-me"]);
      expect((await call({ path: `/v2/${repo}/manifests/4` })).status).toBe(200);
    } finally {
      await policy.removeRetentionRule(last2.id);
      await policy.removeRetentionRule(releases.id);
      await policy.removeImmutableRule(immutable.id);
    }
  });

  test("a pull by tag is counted and timed in batches (the first at once, the next within the minute later); keep-days reads it", async () => {
    const repo = "ret/pulled";
    await pushImage(repo, "a", ["a"]);
    await pushImage(repo, "b", ["b"]);
    const pulledAt = () =>
      runInDurableObject(index(repo), (_i, state) =>
        state.storage.sql.exec("SELECT name, pulled_at, pulls FROM tags ORDER BY name").toArray().map((r) => [r.name, r.pulled_at, r.pulls]),
      );
    expect((await call({ path: `/v2/${repo}/manifests/a` })).status).toBe(200);
    const first = await pulledAt();
    expect(first[0]![1]).toBeTypeOf("number");
    expect(first[0]![2]).toBe(1);
    expect(first[1]!.slice(1)).toEqual([null, 0]);
    await new Promise((r) => setTimeout(r, 5));
    // The next pulls within the minute are counted in the isolate, not written: no write per pull.
    expect((await call({ path: `/v2/${repo}/manifests/a` })).status).toBe(200);
    expect((await call({ path: `/v2/${repo}/manifests/a` })).status).toBe(200);
    expect(await pulledAt()).toEqual(first);

    // Ten days on, with a rule keeping what was pushed or pulled within two days: only a tag pulled since stays.
    const day = 86_400_000;
    await index(repo).recordPulls([{ tag: "b", count: 1 }], Date.now() + 9 * day);
    const rule = { id: "r", repository: repo, keepLast: null, keepTags: null, keepDays: 2, created: "" };
    expect(await index(repo).retain([rule], Date.now() + 10 * day, true)).toEqual(["a"]);
  });
});
