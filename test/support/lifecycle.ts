import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { manifest } from "./registry-view";
import { ok } from "./skopeo";
import type { RunningSystem } from "./system";
import type { JobCounts, JobItem, JobRun } from "../../packages/storage/src/lifecycle-types";

/**
 * Helpers of the lifecycle end-to-end tests (issue 10: garbage collection, retention): `pnpm admin` as a child
 * process against a running system, the admin API over HTTP, what the registry holds under a tag (manifests and
 * blobs, recursively), and a complete pull checked blob by blob.
 */

const ROOT = path.resolve(__dirname, "../..");

/** One thing a run deleted (or, dry, would delete), as `--json` and /admin/gc/runs/<id>/items give it. */
export type Item = JobItem;

export type Counts = JobCounts;

/** A run as `pnpm admin gc --json` prints it (with its items). */
export interface Run extends JobRun {
  items: Item[];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `pnpm admin <args> --registry <this system>` (the admin token from its state directory); never throws. */
export function admin(sys: RunningSystem, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts/admin/cli.mjs"), ...args, "--registry", sys.registry, "--auth", sys.auth],
      { env: { ...process.env, STATE_DIR: sys.stateDir }, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `pnpm admin <args> --json`, expecting success: the parsed output. */
export async function adminJson<T = unknown>(sys: RunningSystem, args: string[]): Promise<T> {
  const r = await admin(sys, [...args, "--json"]);
  if (r.code !== 0) throw new Error(`pnpm admin ${args.join(" ")} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

/** `pnpm admin gc … --json` (or `retention run … --json`): the finished run with its items, which must have succeeded. */
export async function adminRun(sys: RunningSystem, args: string[]): Promise<Run> {
  const run = await adminJson<Run>(sys, args);
  if (run.status !== "done") throw new Error(`run ${run.id} ended ${run.status}: ${JSON.stringify(run.errors)}`);
  return run;
}

/** The registry's admin token (what `pnpm start` wrote to the state directory). */
export function adminToken(sys: RunningSystem): string {
  return (JSON.parse(readFileSync(path.join(sys.stateDir, "auth-secrets.json"), "utf8")) as { adminToken: string }).adminToken;
}

/** One request to the registry's admin API with the admin token; status and parsed JSON body. */
export async function adminApi(sys: RunningSystem, method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(sys.registry + apiPath, {
    method,
    headers: { Authorization: `Bearer ${adminToken(sys)}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: parsed };
}

/** An item as a comparable string (kind, repository, ref, size). */
export const itemKey = (i: Item) => `${i.kind} ${i.repository ?? "-"} ${i.ref} ${i.size}`;

/** The items as a sorted list of keys, for set comparisons with readable diffs. */
export const itemKeys = (items: readonly Item[]) => items.map(itemKey).sort();

/** What a tag or digest holds in the registry, recursively: manifests (index and children) and blobs, with sizes. */
export interface Tree {
  /** The manifest the reference names. */
  digest: string;
  manifests: Set<string>;
  blobs: Map<string, number>;
}

/** The manifests and blobs under `ref` in `repo`, read over HTTP (children of an index included). */
export async function treeOf(sys: RunningSystem, repo: string, ref: string): Promise<Tree> {
  const top = await manifest(sys, repo, ref);
  if (top.status !== 200 || !top.digest) throw new Error(`${repo}:${ref} answered ${top.status}`);
  const tree: Tree = { digest: top.digest, manifests: new Set(), blobs: new Map() };
  const walk = async (digest: string, m: typeof top) => {
    tree.manifests.add(digest);
    for (const d of [m.json.config, ...(m.json.layers ?? [])]) if (d) tree.blobs.set(d.digest, d.size);
    for (const child of m.json.manifests ?? []) {
      const c = await manifest(sys, repo, child.digest);
      if (c.status !== 200) throw new Error(`${repo}@${child.digest} (a child of ${ref}) answered ${c.status}`);
      await walk(child.digest, c);
    }
  };
  await walk(top.digest, top);
  return tree;
}

/** The status of GET /v2/<repo>/blobs/<digest> and, when 200, whether the body hashes to the digest. */
export async function blobGet(sys: RunningSystem, repo: string, digest: string): Promise<{ status: number; intact: boolean }> {
  const res = await sys.fetch(`/v2/${repo}/blobs/${digest}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, intact: res.status === 200 && `sha256:${createHash("sha256").update(body).digest("hex")}` === digest };
}

let pulls = 0;

/**
 * A complete pull with skopeo (`copy --all` into an OCI layout under `work`): every blob file written hashes to
 * its name, and every blob the registry's manifest tree names is among them. Returns the tree.
 */
export async function pullsCompletely(sys: RunningSystem, repo: string, tag: string, work: string): Promise<Tree> {
  const tree = await treeOf(sys, repo, tag);
  const dir = path.join(work, `pull-${++pulls}`);
  await ok(["copy", "--all", "--src-tls-verify=false", "--src-creds", sys.creds, `docker://${sys.host}/${repo}:${tag}`, `oci:${dir}:x`]);
  const blobs = path.join(dir, "blobs", "sha256");
  for (const name of readdirSync(blobs)) {
    const hex = createHash("sha256").update(readFileSync(path.join(blobs, name))).digest("hex");
    if (hex !== name) throw new Error(`${repo}:${tag}: pulled blob ${name} hashes to ${hex}`);
  }
  for (const d of tree.blobs.keys()) {
    if (!existsSync(path.join(blobs, d.slice(7)))) throw new Error(`${repo}:${tag}: blob ${d} missing from the pull`);
  }
  return tree;
}

/** Sum of the sizes in a digest → size map, over `digests`. */
export function sizeOf(sizes: ReadonlyMap<string, number>, digests: Iterable<string>): number {
  let n = 0;
  for (const d of digests) n += sizes.get(d) ?? Number.NaN;
  return n;
}

/** A short random suffix for repository names, so nothing collides with another test's. */
export const suffix = () => Math.random().toString(36).slice(2, 8);
