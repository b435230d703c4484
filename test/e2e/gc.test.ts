import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  admin,
  adminJson,
  adminRun,
  blobGet,
  type Item,
  itemKeys,
  pullsCompletely,
  type Run,
  sizeOf,
  suffix,
  type Tree,
  treeOf,
} from "../support/lifecycle";
import { OciLayout } from "../support/oci-layout";
import { ContainersSandbox } from "../support/podman";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Garbage collection end to end (issue 10 §5), on the system as `pnpm start` runs it: images sharing layers
 * across three repositories, pushed by skopeo and podman; some deleted by digest (`skopeo delete`), one tag
 * removed alone; then `pnpm admin gc --dry-run --grace 0 --json` and `pnpm admin gc --grace 0 --json`, and the
 * same with `--delete-untagged`. Each dry run lists exactly what the real run deletes; what is still tagged pulls
 * completely (skopeo and podman, every blob's digest checked); the blobs no remaining manifest references answer
 * 404 and their sizes add up to the bytes freed; `pnpm admin gc history` lists the runs.
 *
 * What is expected is computed from the manifests the registry served after the pushes, not from the layout:
 * podman may push other bytes than it pulled.
 */
let sys: RunningSystem;
let box: ContainersSandbox;
let work: string;
let layout: OciLayout;
const sfx = suffix();
const ONE = `gc-${sfx}/one`;
const TWO = `gc-${sfx}/two`;
const THREE = `gc-${sfx}/three`;
const REPOS = [ONE, TWO, THREE];
const TLS = "--tls-verify=false";

beforeAll(async () => {
  sys = await startSystem();
  box = new ContainersSandbox();
  work = mkdtempSync(path.join(tmpdir(), "gc-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  // Random contents: gzip cannot shrink them, so every blob has a size of its own order.
  const layer = (name: string, kib: number) => layout.layer(`${name}.bin`, Buffer.concat([Buffer.from(`${sfx} ${name}\n`), randomBytes(kib * 1024)]));
  const base = layer("base", 24);
  layout.tag(layout.image({ layers: [base, layer("keep", 8)] }), "keep");
  layout.tag(layout.image({ layers: [base, layer("gone", 12)] }), "gone");
  layout.tag(layout.image({ layers: [base, layer("shared", 6)] }), "shared");
  layout.tag(layout.image({ layers: [layer("untag", 10)] }), "untag");
  const amd = layout.image({ architecture: "amd64", layers: [base, layer("amd", 5)] });
  const arm = layout.image({ architecture: "arm64", variant: "v8", layers: [layer("arm", 7)] });
  layout.tag(layout.index([amd, arm]), "multi");
});

afterAll(async () => {
  await sys?.stop();
  box?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ref = (repo: string, tag: string) => `${sys.host}/${repo}:${tag}`;
const skopeoPush = (from: string, repo: string, tag: string, all = false) =>
  ok(["copy", ...(all ? ["--all"] : []), "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:${from}`, `docker://${ref(repo, tag)}`]);

/** Only the items of this file's repositories, and blob items of its digests (R2 items name no repository). */
function ours(items: readonly Item[], universe: ReadonlyMap<string, number>): Item[] {
  return items.filter((i) => (i.repository !== null && REPOS.includes(i.repository)) || (i.kind === "blob" && universe.has(i.ref)));
}

/** Blob digests referenced by the given trees. */
const blobsOf = (trees: Iterable<Tree>) => new Set([...trees].flatMap((t) => [...t.blobs.keys()]));

describe("garbage collection with skopeo and podman", () => {
  test("dry run = real run; what is tagged pulls whole; unreferenced blobs 404 and add up to the bytes freed", async () => {
    // --- pushes: skopeo to one, two, three; podman pulls from one and pushes to two and three
    await skopeoPush("keep", ONE, "keep");
    await skopeoPush("gone", ONE, "gone");
    await skopeoPush("shared", ONE, "shared");
    await skopeoPush("untag", ONE, "untag");
    await skopeoPush("shared", TWO, "shared");
    await skopeoPush("multi", THREE, "multi", true);
    for (const tag of ["keep", "gone"]) await box.mustPodman(["pull", TLS, "--creds", sys.creds, ref(ONE, tag)]);
    await box.mustPodman(["push", TLS, "--creds", sys.creds, ref(ONE, "keep"), `docker://${ref(TWO, "pod")}`]);
    // As Docker v2 schema 2: another manifest over the same blobs.
    await box.mustPodman(["push", TLS, "--creds", sys.creds, "--format", "v2s2", ref(ONE, "gone"), `docker://${ref(THREE, "podgone")}`]);

    // What each repository holds: repository → tag → tree (as the registry serves it).
    const pushed: [string, string][] = [
      [ONE, "keep"],
      [ONE, "gone"],
      [ONE, "shared"],
      [ONE, "untag"],
      [TWO, "shared"],
      [TWO, "pod"],
      [THREE, "multi"],
      [THREE, "podgone"],
    ];
    const trees = new Map<string, Tree>();
    for (const [repo, tag] of pushed) trees.set(`${repo}:${tag}`, await treeOf(sys, repo, tag));
    const tree = (repo: string, tag: string) => trees.get(`${repo}:${tag}`)!;
    const universe = new Map<string, number>();
    for (const t of trees.values()) for (const [d, s] of t.blobs) universe.set(d, s);
    // The layers are shared across repositories, as pushed.
    expect(tree(TWO, "shared").blobs).toEqual(tree(ONE, "shared").blobs);
    const baseLayer = [...tree(ONE, "keep").blobs.keys()].find((d) => tree(ONE, "gone").blobs.has(d));
    expect(baseLayer).toBeDefined();
    expect(tree(THREE, "multi").blobs.has(baseLayer!)).toBe(true);
    expect(tree(THREE, "podgone").digest).not.toBe(tree(ONE, "gone").digest);

    // --- deletes: by digest with skopeo (one:gone, one:shared, three:podgone by tag → its digest), one tag alone
    await ok(["delete", TLS, "--creds", sys.creds, `docker://${sys.host}/${ONE}@${tree(ONE, "gone").digest}`]);
    await ok(["delete", TLS, "--creds", sys.creds, `docker://${sys.host}/${ONE}@${tree(ONE, "shared").digest}`]);
    await ok(["delete", TLS, "--creds", sys.creds, `docker://${ref(THREE, "podgone")}`]);
    const untag = await sys.fetch(`/v2/${ONE}/manifests/untag`, { method: "DELETE" });
    expect(untag.status).toBe(202);
    expect((await sys.fetch(`/v2/${ONE}/manifests/${tree(ONE, "untag").digest}`, { method: "HEAD" })).status).toBe(200);

    // --- run 1: untagged manifests stay (with their blobs)
    const remaining1 = ["keep", "untag"].map((t) => tree(ONE, t)).concat([tree(TWO, "shared"), tree(TWO, "pod"), tree(THREE, "multi")]);
    const freed1 = [...universe.keys()].filter((d) => !blobsOf(remaining1).has(d));
    const links1: Item[] = [];
    const linksGone = (repo: string, gone: Tree[], stay: Tree[]) => {
      const kept = blobsOf(stay);
      for (const d of blobsOf(gone)) if (!kept.has(d)) links1.push({ kind: "blob-link", repository: repo, ref: d, size: 0 });
    };
    linksGone(ONE, [tree(ONE, "gone"), tree(ONE, "shared")], [tree(ONE, "keep"), tree(ONE, "untag")]);
    linksGone(THREE, [tree(THREE, "podgone")], [tree(THREE, "multi")]);
    const expected1 = [...links1, ...freed1.map((d): Item => ({ kind: "blob", repository: null, ref: d, size: universe.get(d)! }))];

    const dry1 = await adminRun(sys, ["gc", "--dry-run", "--grace", "0"]);
    const real1 = await adminRun(sys, ["gc", "--grace", "0"]);
    expect(dry1.options).toMatchObject({ dryRun: true, deleteUntagged: false, graceSeconds: 0 });
    expect(itemKeys(ours(dry1.items, universe))).toEqual(itemKeys(expected1));
    expect(itemKeys(dry1.items)).toEqual(itemKeys(real1.items));
    expect(dry1.counts).toEqual(real1.counts);
    expect(real1.counts.errors).toBe(0);
    // This system is this file's alone: every blob freed is one of ours, and the bytes freed are theirs.
    expect(real1.items.filter((i) => i.kind === "blob").every((i) => universe.has(i.ref))).toBe(true);
    expect(real1.counts.bytesFreed).toBe(sizeOf(universe, freed1));
    expect(real1.counts.blobs).toBe(freed1.length);
    expect(freed1.length).toBeGreaterThan(0);
    await expectAfterRun(freed1, universe);
    // The untagged manifest is still served by digest.
    expect((await sys.fetch(`/v2/${ONE}/manifests/${tree(ONE, "untag").digest}`, { method: "HEAD" })).status).toBe(200);

    // --- run 2: --delete-untagged takes the untagged manifest and its blobs; an index's untagged children stay
    const remaining2 = remaining1.filter((t) => t !== tree(ONE, "untag"));
    const freed2 = [...blobsOf(remaining1)].filter((d) => !blobsOf(remaining2).has(d));
    const expected2: Item[] = [
      { kind: "manifest", repository: ONE, ref: tree(ONE, "untag").digest, size: 0 },
      ...[...tree(ONE, "untag").blobs.keys()].map((d): Item => ({ kind: "blob-link", repository: ONE, ref: d, size: 0 })),
      ...freed2.map((d): Item => ({ kind: "blob", repository: null, ref: d, size: universe.get(d)! })),
    ];
    const dry2 = await adminRun(sys, ["gc", "--dry-run", "--delete-untagged", "--grace", "0"]);
    const real2 = await adminRun(sys, ["gc", "--delete-untagged", "--grace", "0"]);
    expect(itemKeys(ours(dry2.items, universe))).toEqual(itemKeys(expected2));
    expect(itemKeys(dry2.items)).toEqual(itemKeys(real2.items));
    expect(real2.counts).toMatchObject({ manifests: 1, blobs: freed2.length, bytesFreed: sizeOf(universe, freed2), errors: 0 });
    expect((await sys.fetch(`/v2/${ONE}/manifests/${tree(ONE, "untag").digest}`, { method: "HEAD" })).status).toBe(404);
    await expectAfterRun([...freed1, ...freed2], universe);

    // --- a third run finds nothing more of ours
    const again = await adminRun(sys, ["gc", "--delete-untagged", "--grace", "0"]);
    expect(ours(again.items, universe)).toEqual([]);

    // --- podman pulls what is still tagged, into a fresh store
    for (const [repo, tag] of [[TWO, "pod"], [ONE, "keep"], [THREE, "multi"]] as const) {
      await box.mustPodman(["rmi", "--all", "--force"]);
      await box.mustPodman(["pull", TLS, "--creds", sys.creds, ref(repo, tag)]);
    }

    // --- history lists every run, newest first, dry runs marked
    const { runs } = await adminJson<{ runs: Run[] }>(sys, ["gc", "history"]);
    const ids = [again, real2, dry2, real1, dry1].map((r) => r.id);
    expect(runs.map((r) => r.id).filter((id) => ids.includes(id))).toEqual(ids);
    expect(runs.find((r) => r.id === dry1.id)?.options).toMatchObject({ dryRun: true });
    expect(runs.find((r) => r.id === real1.id)?.counts).toEqual(real1.counts);
    const table = await admin(sys, ["gc", "history"]);
    expect(table.code).toBe(0);
    for (const id of ids) expect(table.stdout).toContain(id);
  });
});

/** What is still tagged after the deletes. */
const TAGGED: [string, string][] = [
  [ONE, "keep"],
  [TWO, "shared"],
  [TWO, "pod"],
  [THREE, "multi"],
];

/** After a real run: every tag pulls whole (skopeo), and every freed blob answers 404 in every repository. */
async function expectAfterRun(freed: string[], universe: ReadonlyMap<string, number>): Promise<void> {
  for (const [repo, tag] of TAGGED) {
    const pulled = await pullsCompletely(sys, repo, tag, work);
    for (const d of pulled.blobs.keys()) expect(await blobGet(sys, repo, d)).toEqual({ status: 200, intact: true });
  }
  for (const d of freed) {
    expect(universe.has(d)).toBe(true);
    for (const repo of REPOS) expect([repo, d, (await sys.fetch(`/v2/${repo}/blobs/${d}`, { method: "HEAD" })).status]).toEqual([repo, d, 404]);
  }
}
