import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout } from "../support/oci-layout";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Pull statistics and request ids end to end (issue 12 §2, §3): skopeo pushes and pulls on the system
 * `pnpm start` runs, then `pnpm admin stats` shows the pulls per repository and per tag; every worker answers
 * with an `X-Request-Id` a user can quote (the same id is in that request's log line: workers/registry tests).
 * A pull is written at once when it is the first of its repository in the isolate's batch, so no waiting here.
 */
const ROOT = path.resolve(__dirname, "../..");
let sys: RunningSystem;
let work: string;
let layout: OciLayout;

beforeAll(async () => {
  sys = await startSystem();
  work = mkdtempSync(path.join(tmpdir(), "stats-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "stats one\n")] }), "one");
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `pnpm admin stats …` against this system; stdout. */
function admin(...args: string[]): string {
  return execFileSync(process.execPath, [path.join(ROOT, "scripts/admin/cli.mjs"), "stats", ...args, "--registry", sys.registry], {
    env: { ...process.env, STATE_DIR: sys.stateDir },
    encoding: "utf8",
  });
}

const image = (repo: string, tag: string) => `docker://${sys.host}/${repo}:${tag}`;

describe("pnpm admin stats after skopeo pulls", () => {
  test("repositories by pulls, a repository's tags with pulls and last pull time", async () => {
    for (const [repo, tag] of [["stats/app", "v1"], ["stats/app", "v2"], ["stats/other", "latest"]] as const) {
      await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:one`, image(repo, tag)]);
    }
    const pull = (repo: string, tag: string) =>
      ok(["copy", "--src-tls-verify=false", "--src-creds", sys.creds, image(repo, tag), `oci:${path.join(work, "out")}:${tag}`]);
    await pull("stats/app", "v1");
    await pull("stats/other", "latest");

    const all = JSON.parse(admin("--json")) as { repositories: { name: string; tags: number; manifests: number; pulls: number }[] };
    const app = all.repositories.find((r) => r.name === "stats/app");
    expect(app).toMatchObject({ tags: 2, manifests: 1 });
    expect(app!.pulls).toBeGreaterThanOrEqual(1);
    const table = admin();
    expect(table).toMatch(/^REPOSITORY\s+PULLS\s+TAGS\s+MANIFESTS$/m);
    expect(table).toMatch(/^stats\/app\s+\d+\s+2\s+1$/m);

    const tags = JSON.parse(admin("stats/app", "--json")) as { tags: { name: string; pulls: number; pulledAt: number | null }[] };
    expect(tags.tags.find((t) => t.name === "v1")!.pulls).toBeGreaterThanOrEqual(1);
    expect(tags.tags.find((t) => t.name === "v1")!.pulledAt).toBeTypeOf("number");
    expect(tags.tags.find((t) => t.name === "v2")).toMatchObject({ pulls: 0, pulledAt: null });
    const detail = admin("stats/app");
    expect(detail).toMatch(/^stats\/app: 2 tags, 1 manifests, \d+ pulls$/m);
    expect(detail).toMatch(/^v1\s+[1-9]\d*\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s/m);
    expect(detail).toMatch(/^v2\s+0\s+never\s/m);
  });

  test("every worker answers with an X-Request-Id", async () => {
    for (const url of [`${sys.registry}/v2/`, `${sys.registry}/v2/stats/none/manifests/x`, `${sys.auth}/jwks`, `${sys.mirror}/v2/`]) {
      const res = await fetch(url);
      await res.arrayBuffer();
      expect(res.headers.get("X-Request-Id"), url).toMatch(/^[\w-]{8,}$/);
    }
  });
});
