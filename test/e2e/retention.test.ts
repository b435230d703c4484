import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminJson, adminRun, blobGet, type Item, itemKeys, pullsCompletely, sizeOf, suffix, type Tree, treeOf } from "../support/lifecycle";
import { OciLayout } from "../support/oci-layout";
import { tagsOf } from "../support/registry-view";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Retention rules end to end (issue 10 §2, §5) with real pushes, on the system as `pnpm start` runs it: five tags
 * pushed in order by skopeo under `--keep-last 2`, another repository under `--keep-tags 'release-*'`, an
 * immutable rule on one tag, cosign-style `sha256-<hex>.sig` tags. `pnpm admin retention run --dry-run --json`
 * lists exactly the tags the real run removes; kept tags pull whole; the immutable tag and the cosign tags stay;
 * then `pnpm admin gc --delete-untagged --grace 0` frees the removed images' blobs (and the signature whose
 * subject went), and nothing kept loses a blob.
 *
 * Not covered here: `--keep-days` by pull time. A pull is recorded only when a manifest GET by tag answers 200,
 * at most hourly, and the push time counts as well, so within one test run it cannot be told from the push.
 */
let sys: RunningSystem;
let work: string;
let layout: OciLayout;
const sfx = suffix();
const APP = `ret-${sfx}/app`;
const LIB = `ret-${sfx}/lib`;
const TLS = "--tls-verify=false";

beforeAll(async () => {
  sys = await startSystem();
  work = mkdtempSync(path.join(tmpdir(), "retention-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  const layer = (name: string, kib: number) => layout.layer(`${name}.bin`, Buffer.concat([Buffer.from(`${sfx} ${name}\n`), randomBytes(kib * 1024)]));
  const base = layer("base", 16);
  for (const name of ["v1", "v2", "v3", "v4", "v5", "release-1", "release-2", "dev-1", "dev-2"]) {
    layout.tag(layout.image({ layers: [base, layer(name, 4)] }), name);
  }
  // Stand-ins for cosign signatures: small images of their own, pushed under the cosign tag scheme.
  layout.tag(layout.image({ layers: [layer("signature of v1", 1)] }), "sig1");
  layout.tag(layout.image({ layers: [layer("signature of v5", 1)] }), "sig5");
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const push = (from: string, repo: string, tag: string) =>
  ok(["copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:${from}`, `docker://${sys.host}/${repo}:${tag}`]);

/** The cosign tag of a manifest digest: `sha256-<hex>.sig`. */
const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`;

const tagItem = (repository: string, ref: string): Item => ({ kind: "tag", repository, ref, size: 0 });

describe("retention rules with skopeo pushes", () => {
  test("keep-last and keep-tags remove the right tags; immutable and cosign tags stay; gc frees what went", async () => {
    // --- pushes, one after the other (push times in this order)
    const trees = new Map<string, Tree>();
    for (const tag of ["v1", "v2", "v3", "v4", "v5"]) {
      await push(tag, APP, tag);
      trees.set(`${APP}:${tag}`, await treeOf(sys, APP, tag));
    }
    const sig1 = sigTag(trees.get(`${APP}:v1`)!.digest);
    const sig5 = sigTag(trees.get(`${APP}:v5`)!.digest);
    // Pushed last: were cosign tags counted by --keep-last, they would push v4 out.
    await push("sig1", APP, sig1);
    await push("sig5", APP, sig5);
    for (const tag of ["release-1", "release-2", "dev-1", "dev-2"]) await push(tag, LIB, tag);
    await push("release-2", LIB, "latest");
    for (const [repo, tag] of [
      [APP, sig1],
      [APP, sig5],
      [LIB, "release-1"],
      [LIB, "release-2"],
      [LIB, "dev-1"],
      [LIB, "dev-2"],
    ] as const) {
      trees.set(`${repo}:${tag}`, await treeOf(sys, repo, tag));
    }
    const tree = (repo: string, tag: string) => trees.get(`${repo}:${tag}`)!;
    const repoOf = (t: Tree) => [...trees].find(([, v]) => v === t)![0].split(":")[0]!;
    const appBefore = ["v1", "v2", "v3", "v4", "v5", sig1, sig5].sort();
    const libBefore = ["dev-1", "dev-2", "latest", "release-1", "release-2"];
    expect(await tagsOf(sys, APP)).toEqual(appBefore);
    expect(await tagsOf(sys, LIB)).toEqual(libBefore);

    // --- rules: keep the last 2 in APP (v2 immutable besides), release-* in LIB
    await adminJson(sys, ["immutable", "add", "--repository", APP, "--tag", "v2"]);
    const last = await adminJson<{ id: string; keepLast: number }>(sys, ["retention", "add", APP, "--keep-last", "2"]);
    const release = await adminJson<{ id: string; keepTags: string }>(sys, ["retention", "add", LIB, "--keep-tags", "release-*"]);
    expect(last.keepLast).toBe(2);
    expect(release.keepTags).toBe("release-*");
    const { rules } = await adminJson<{ rules: { id: string }[] }>(sys, ["retention", "list"]);
    expect(rules.map((r) => r.id).sort()).toEqual([last.id, release.id].sort());

    const expected = [tagItem(APP, "v1"), tagItem(APP, "v3"), tagItem(LIB, "dev-1"), tagItem(LIB, "dev-2"), tagItem(LIB, "latest")];
    const dry = await adminRun(sys, ["retention", "run", "--dry-run"]);
    expect(dry).toMatchObject({ kind: "retention", options: { dryRun: true } });
    expect(itemKeys(dry.items)).toEqual(itemKeys(expected));
    expect(dry.counts).toMatchObject({ tags: 5, manifests: 0, blobs: 0, bytesFreed: 0, errors: 0 });
    // A dry run changes nothing.
    expect(await tagsOf(sys, APP)).toEqual(appBefore);
    expect(await tagsOf(sys, LIB)).toEqual(libBefore);

    const real = await adminRun(sys, ["retention", "run"]);
    expect(itemKeys(real.items)).toEqual(itemKeys(dry.items));
    expect(real.counts).toEqual(dry.counts);
    expect(await tagsOf(sys, APP)).toEqual(["v2", "v4", "v5", sig1, sig5].sort());
    expect(await tagsOf(sys, LIB)).toEqual(["release-1", "release-2"]);
    for (const [repo, tag] of [
      [APP, "v2"],
      [APP, "v4"],
      [APP, "v5"],
      [APP, sig5],
      [LIB, "release-1"],
      [LIB, "release-2"],
    ] as const) {
      await pullsCompletely(sys, repo, tag, work);
    }
    // The untagged images are still there by digest until a GC deletes untagged manifests.
    expect((await sys.fetch(`/v2/${APP}/manifests/${tree(APP, "v1").digest}`, { method: "HEAD" })).status).toBe(200);
    // The immutable tag still names its image.
    const v2 = await ok(["inspect", TLS, "--creds", sys.creds, `docker://${sys.host}/${APP}:v2`]).then((out) => JSON.parse(out) as { Digest: string });
    expect(v2.Digest).toBe(tree(APP, "v2").digest);

    // --- universe of blobs and what must go once untagged manifests are collected
    const universe = new Map<string, number>();
    for (const t of trees.values()) for (const [d, s] of t.blobs) universe.set(d, s);
    const kept = [tree(APP, "v2"), tree(APP, "v4"), tree(APP, "v5"), tree(APP, sig5), tree(LIB, "release-1"), tree(LIB, "release-2")];
    const keptBlobs = new Set(kept.flatMap((t) => [...t.blobs.keys()]));
    const freed = [...universe.keys()].filter((d) => !keptBlobs.has(d));
    const ours = (items: readonly Item[]) => items.filter((i) => i.repository === APP || i.repository === LIB || (i.kind === "blob" && universe.has(i.ref)));

    // Without --delete-untagged the removed images stay (untagged), and so do their blobs.
    const plain = await adminRun(sys, ["gc", "--grace", "0"]);
    expect(ours(plain.items)).toEqual([]);

    const gone = [tree(APP, "v1"), tree(APP, "v3"), tree(APP, sig1), tree(LIB, "dev-1"), tree(LIB, "dev-2")];
    const gcDry = await adminRun(sys, ["gc", "--dry-run", "--delete-untagged", "--grace", "0"]);
    const gc = await adminRun(sys, ["gc", "--delete-untagged", "--grace", "0"]);
    expect(itemKeys(gc.items)).toEqual(itemKeys(gcDry.items));
    const manifests = ours(gc.items).filter((i) => i.kind === "manifest");
    expect(itemKeys(manifests)).toEqual(itemKeys(gone.map((t): Item => ({ kind: "manifest", repository: repoOf(t), ref: t.digest, size: 0 }))));
    // v1's signature tag goes with its subject; v5's stays.
    expect(ours(gc.items).filter((i) => i.kind === "tag")).toEqual([tagItem(APP, sig1)]);
    const blobs = ours(gc.items).filter((i) => i.kind === "blob");
    expect(blobs.map((i) => i.ref).sort()).toEqual(freed.sort());
    expect(blobs.every((i) => i.size === universe.get(i.ref))).toBe(true);
    expect(gc.counts.bytesFreed).toBe(sizeOf(universe, freed));
    expect(gc.counts.errors).toBe(0);

    expect(await tagsOf(sys, APP)).toEqual(["v2", "v4", "v5", sig5].sort());
    for (const t of kept) {
      for (const d of t.blobs.keys()) expect(await blobGet(sys, repoOf(t), d)).toEqual({ status: 200, intact: true });
    }
    for (const d of freed) {
      for (const repo of [APP, LIB]) expect([repo, d, (await sys.fetch(`/v2/${repo}/blobs/${d}`, { method: "HEAD" })).status]).toEqual([repo, d, 404]);
    }
    await pullsCompletely(sys, APP, "v4", work);
    await pullsCompletely(sys, LIB, "release-2", work);
  });
});
