import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout } from "../support/oci-layout";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Immutable tags end to end: a rule added with `pnpm admin immutable add` on the system `pnpm start` runs, and
 * skopeo pushing over and deleting a covered tag (refused with the rule's message), pushing the identical image
 * again (accepted), and moving an uncovered tag (accepted); removing the rule makes the tag movable again.
 */
const ROOT = path.resolve(__dirname, "../..");
let sys: RunningSystem;
let work: string;
let layout: OciLayout;

beforeAll(async () => {
  sys = await startSystem();
  work = mkdtempSync(path.join(tmpdir(), "immutable-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "release one\n")] }), "one");
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "release two\n")] }), "two");
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `pnpm admin …` against this system (the token from its state directory), `--json` output parsed. */
function admin(...args: string[]): unknown {
  const out = execFileSync(process.execPath, [path.join(ROOT, "scripts/admin/cli.mjs"), ...args, "--registry", sys.registry, "--json"], {
    env: { ...process.env, STATE_DIR: sys.stateDir },
    encoding: "utf8",
  });
  return out.trim() ? JSON.parse(out) : undefined;
}

const push = (from: string, tag: string) =>
  skopeo(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:${from}`, `docker://${sys.host}/prod/app:${tag}`]);

describe("immutable tags (pnpm admin + skopeo)", () => {
  test("a covered tag cannot be pushed over or deleted; the same image again and other tags are fine", async () => {
    expect((await push("one", "v1")).code).toBe(0);
    expect((await push("one", "latest")).code).toBe(0);
    const rule = admin("immutable", "add", "--repository", "prod/*", "--tag", "v*") as { id: string };
    expect((admin("immutable", "list") as { rules: { id: string }[] }).rules.map((r) => r.id)).toContain(rule.id);

    const over = await push("two", "v1");
    expect(over.code).not.toBe(0);
    expect(over.stderr).toMatch(new RegExp(`denied: tag \\\\?"v1\\\\?" is immutable \\(rule ${rule.id}\\)`));
    expect((await push("one", "v1")).code).toBe(0);
    expect((await push("two", "latest")).code).toBe(0);

    const digest = (JSON.parse(await ok(["inspect", "--tls-verify=false", `docker://${sys.host}/prod/app:v1`])) as { Digest: string }).Digest;
    const deleted = await skopeo(["delete", "--tls-verify=false", "--creds", sys.creds, `docker://${sys.host}/prod/app@${digest}`]);
    expect(deleted.code).not.toBe(0);
    expect(deleted.stderr).toMatch(/denied/i);

    admin("immutable", "remove", rule.id);
    expect((await push("two", "v1")).code).toBe(0);
  });
});
