import { env } from "cloudflare:test";
import type { GcOptions, JobItem, JobRun, LifecycleRunner } from "@registry/storage";
import { describe, expect, test } from "vitest";
import { call, OCI_MANIFEST, openUpload, pullBlob, pushBlob, pushImage, sha256 } from "./helpers";

/**
 * Garbage collection in workerd, against the real local R2 and Durable Objects: what is kept and swept, the dry
 * run equal to the real one, mounts and pushes racing a sweep, upload sessions, and runs under injected faults.
 */
const e = env as unknown as {
  LIFECYCLE: DurableObjectNamespace<LifecycleRunner>;
  REGISTRY_BUCKET: R2Bucket;
  REPOSITORY_INDEX: DurableObjectNamespace;
};
const runner = () => e.LIFECYCLE.get(e.LIFECYCLE.idFromName("lifecycle"));

const OPTIONS: GcOptions = { dryRun: false, deleteUntagged: false, graceSeconds: 0, uploadGraceSeconds: 86400 };

/** Runs GC to the end; returns the run and its items. */
async function gc(options: Partial<GcOptions> = {}): Promise<{ run: JobRun; items: JobItem[] }> {
  const { run, started } = await runner().start("gc", { ...OPTIONS, ...options });
  expect(started).toBe(true);
  let current = run;
  for (let i = 0; current.status === "running"; i++) {
    if (i > 600) throw new Error(`run ${run.id} did not finish: ${JSON.stringify(current)}`);
    await new Promise((r) => setTimeout(r, 50));
    current = (await runner().run(run.id))!;
  }
  const items: JobItem[] = [];
  for (let after: number | null = 0; after !== null; ) {
    const page: { items: JobItem[]; next: number | null } = await runner().items(run.id, after, 500);
    items.push(...page.items);
    after = page.next;
  }
  return { run: current, items };
}

const key = (i: JobItem) => `${i.kind} ${i.repository ?? "-"} ${i.ref} ${i.size}`;
const status = async (path: string, method = "GET") => (await call({ method, path })).status;

async function dataKeys(): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await e.REGISTRY_BUCKET.list({ prefix: "data/", ...(cursor ? { cursor } : {}) });
    out.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

describe("garbage collection", () => {
  test("a blob pushed to two repositories is stored once", async () => {
    const before = (await dataKeys()).length;
    const bytes = `shared once ${crypto.randomUUID()}`;
    await pushBlob("gc/once-a", bytes);
    await pushBlob("gc/once-b", bytes);
    expect((await dataKeys()).length).toBe(before + 1);
    expect(new TextDecoder().decode(await pullBlob("gc/once-b", await sha256(bytes)))).toBe(bytes);
  });

  test("sweeps blobs no manifest references, keeps shared and tagged ones; the dry run lists exactly what is deleted", async () => {
    const shared = `shared ${crypto.randomUUID()}`;
    const onlyB = `only b ${crypto.randomUUID()}`;
    const a = await pushImage("gc/sweep", "a", [shared]);
    const b = await pushImage("gc/sweep", "b", [onlyB]);
    await pushImage("gc/sweep-other", "c", [shared]);
    expect(await status(`/v2/gc/sweep/manifests/${b.digest}`, "DELETE")).toBe(202);

    // Upload grace 0: the swept blobs' data is also old enough for the orphan sweep, which must not list it twice.
    const dry = await gc({ dryRun: true, uploadGraceSeconds: 0 });
    const real = await gc({ uploadGraceSeconds: 0 });
    expect(real.items.map(key).sort()).toEqual(dry.items.map(key).sort());
    expect(real.run.counts).toEqual(dry.run.counts);
    const onlyBDigest = await sha256(onlyB);
    const mine = real.items.filter((i) => i.repository === "gc/sweep" || i.ref === onlyBDigest);
    expect(mine.map((i) => `${i.kind} ${i.ref}`)).toContain(`blob-link ${onlyBDigest}`);
    expect(mine.map((i) => `${i.kind} ${i.ref}`)).toContain(`blob ${onlyBDigest}`);
    expect(real.items.find((i) => i.kind === "blob" && i.ref === onlyBDigest)!.size).toBe(onlyB.length);

    expect(await status(`/v2/gc/sweep/blobs/${onlyBDigest}`)).toBe(404);
    expect(new TextDecoder().decode(await pullBlob("gc/sweep", await sha256(shared)))).toBe(shared);
    expect(new TextDecoder().decode(await pullBlob("gc/sweep-other", await sha256(shared)))).toBe(shared);
    expect(await status(`/v2/gc/sweep/manifests/${a.digest}`)).toBe(200);

    // Nothing left to do: a second run deletes nothing of these repositories.
    const again = await gc();
    expect(again.items.filter((i) => i.repository?.startsWith("gc/sweep"))).toEqual([]);
  });

  test("a repository holding only blobs (its manifest not pushed yet) is collected consistently: link and bytes together", async () => {
    const d = await pushBlob("gc/blobs-only", `lonely ${crypto.randomUUID()}`);
    const kept = await gc({ graceSeconds: 3600 });
    expect(kept.items.find((i) => i.ref === d)).toBeUndefined();
    const { items } = await gc();
    expect(items.filter((i) => i.ref === d).map((i) => i.kind).sort()).toEqual(["blob", "blob-link"]);
    expect(await status(`/v2/gc/blobs-only/blobs/${d}`, "HEAD")).toBe(404);
  });

  test("keeps what was linked within the grace period", async () => {
    const d = await pushBlob("gc/grace", `fresh ${crypto.randomUUID()}`);
    const { items } = await gc({ graceSeconds: 3600 });
    expect(items.find((i) => i.ref === d)).toBeUndefined();
    expect(await status(`/v2/gc/grace/blobs/${d}`)).toBe(200);
  });

  test("--delete-untagged: untagged manifests go with their referrers and cosign tags; a tagged image keeps its own", async () => {
    const repo = "gc/untagged";
    const kept = await pushImage(repo, "v1", [`kept ${crypto.randomUUID()}`]);
    const gone = await pushImage(repo, "tmp", [`gone ${crypto.randomUUID()}`]);
    expect(await status(`/v2/${repo}/manifests/tmp`, "DELETE")).toBe(202); // the tag only: the manifest stays
    const subject = (d: { digest: string; body: string }) => ({ mediaType: OCI_MANIFEST, digest: d.digest, size: d.body.length });
    const sigOfKept = await pushImage(repo, "sig-kept", [`s1 ${crypto.randomUUID()}`], { subject: subject(kept) });
    expect(await status(`/v2/${repo}/manifests/sig-kept`, "DELETE")).toBe(202);
    const sigOfGone = await pushImage(repo, "sig-gone", [`s2 ${crypto.randomUUID()}`], { subject: subject(gone) });
    expect(await status(`/v2/${repo}/manifests/sig-gone`, "DELETE")).toBe(202);
    const cosignTag = `${gone.digest.replace(":", "-")}.sig`;
    const cosign = await pushImage(repo, cosignTag, [`c ${crypto.randomUUID()}`]);
    const cosignOfKept = await pushImage(repo, `${kept.digest.replace(":", "-")}.sig`, [`ck ${crypto.randomUUID()}`]);

    const plain = await gc();
    expect(plain.items.filter((i) => i.repository === repo && i.kind === "manifest")).toEqual([]);

    const { items } = await gc({ deleteUntagged: true });
    const deleted = items.filter((i) => i.repository === repo && i.kind === "manifest").map((i) => i.ref).sort();
    expect(deleted).toEqual([gone.digest, sigOfGone.digest, cosign.digest].sort());
    expect(items.filter((i) => i.repository === repo && i.kind === "tag").map((i) => i.ref)).toEqual([cosignTag]);
    for (const d of [kept.digest, sigOfKept.digest, cosignOfKept.digest]) expect(await status(`/v2/${repo}/manifests/${d}`)).toBe(200);
    for (const d of [gone.digest, sigOfGone.digest]) expect(await status(`/v2/${repo}/manifests/${d}`)).toBe(404);
    expect(await status(`/v2/${repo}/manifests/${cosignTag}`)).toBe(404);
  });

  test("a manifest push whose blob was swept after the push checked fails with MANIFEST_BLOB_UNKNOWN", async () => {
    const stub = e.REPOSITORY_INDEX.get(e.REPOSITORY_INDEX.idFromName("gc/race")) as unknown as {
      putManifest(repository: string, m: unknown): Promise<{ missing?: string[] }>;
    };
    const missing = `sha256:${"ab".repeat(32)}`;
    const bytes = new TextEncoder().encode("{}");
    const out = await stub.putManifest("gc/race", { digest: await sha256(bytes), mediaType: OCI_MANIFEST, size: 2, bytes, references: { blobs: [missing], manifests: [] } });
    expect(out.missing).toEqual([missing]);
    expect(await status(`/v2/gc/race/manifests/${await sha256(bytes)}`)).toBe(404);
  });

  test("a blob condemned by a run is never mounted; upload sessions idle past the upload grace are swept", async () => {
    const bytes = `condemned ${crypto.randomUUID()}`;
    const digest = await pushBlob("gc/mount-src", bytes);
    expect(await status(`/v2/gc/mount-src/blobs/${digest}`, "DELETE")).toBe(202);
    const location = await openUpload("gc/sessions");
    const { items } = await gc({ uploadGraceSeconds: 0 });
    expect(items.find((i) => i.kind === "blob" && i.ref === digest)).toBeTruthy();
    expect(items.find((i) => i.kind === "upload" && location.includes(i.ref))).toBeTruthy();
    const mount = await call({ method: "POST", path: `/v2/gc/mount-dst/blobs/uploads/?mount=${digest}` });
    expect(mount.status).toBe(202); // nothing to mount: the client uploads
    expect((await call({ method: "GET", path: location })).status).toBe(404);
    // Pushed again, the digest is stored afresh and readable.
    await pushBlob("gc/mount-dst", bytes);
    expect(new TextDecoder().decode(await pullBlob("gc/mount-dst", digest))).toBe(bytes);
  });

  test("under injected storage faults a run records its failures, and the next clean run converges", async () => {
    const images = [];
    for (let i = 0; i < 4; i++) {
      images.push(await pushImage(`gc/faults-${i}`, "keep", [`keep ${i} ${crypto.randomUUID()}`, `common ${i % 2}`]));
      const junk = await pushImage(`gc/faults-${i}`, "junk", [`junk ${i} ${crypto.randomUUID()}`]);
      expect(await status(`/v2/gc/faults-${i}/manifests/${junk.digest}`, "DELETE")).toBe(202);
    }
    await runner().injectFaults(0.3);
    try {
      const faulty = await gc();
      expect(faulty.run.counts.errors).toBeGreaterThan(0);
      expect(faulty.run.errors[0]!.error).toMatch(/injected fault/);
    } finally {
      await runner().injectFaults(0);
    }
    await gc();
    const last = await gc();
    expect(last.items.filter((i) => i.repository?.startsWith("gc/faults-"))).toEqual([]);
    for (let i = 0; i < 4; i++) {
      const m = (await (await call({ path: `/v2/gc/faults-${i}/manifests/keep` })).json()) as { config: { digest: string }; layers: { digest: string }[] };
      for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) {
        expect(await sha256(await pullBlob(`gc/faults-${i}`, d))).toBe(d);
      }
    }
  });

  test("one run at a time: starting while one is under way returns that run", async () => {
    const first = await runner().start("gc", { ...OPTIONS, dryRun: true });
    const second = await runner().start("gc", { ...OPTIONS, dryRun: true });
    expect(second.started).toBe(false);
    expect(second.run.id).toBe(first.run.id);
    for (let i = 0; (await runner().run(first.run.id))!.status === "running" && i < 600; i++) await new Promise((r) => setTimeout(r, 50));
    const runs = await runner().runs(5);
    expect(runs[0]!.id).toBe(first.run.id);
    expect(runs[0]!.status).toBe("done");
  });
});
