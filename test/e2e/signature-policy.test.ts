import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Containerd } from "../support/containerd";
import { generateKey, pushSignatureReferrer, pushSignatureTag, type RegistryTarget } from "../support/cosign";
import { OciLayout } from "../support/oci-layout";
import { ContainersSandbox } from "../support/podman";
import { skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * The verified-signature pull policy end to end (issue 11 §2, §3): on the system `pnpm start` runs, a policy
 * added with `pnpm admin policy add 'policy/*' --key trusted.pem`; images pushed with skopeo and signed in
 * cosign's real format (made in the test: cosign cannot be installed here). skopeo, podman and ctr pulls of
 * the unsigned image, of one signed with an untrusted key and of one whose signed payload names another digest
 * are refused (the client fails and says "denied"); the images signed with the trusted key (tag scheme, and
 * OCI 1.1 referrer) are pulled.
 */
const ROOT = path.resolve(__dirname, "../..");
let sys: RunningSystem;
let work: string;
let containerd: Containerd;
let box: ContainersSandbox;
let policyId: string;

/** `pnpm admin …` against this system (the token from its state directory). */
function admin(...args: string[]): string {
  return execFileSync(process.execPath, [path.join(ROOT, "scripts/admin/cli.mjs"), ...args, "--registry", sys.registry], {
    env: { ...process.env, STATE_DIR: sys.stateDir },
    encoding: "utf8",
  });
}

const CASES = {
  unsigned: { allowed: false },
  untrusted: { allowed: false },
  otherdigest: { allowed: false },
  signed: { allowed: true },
  referrer: { allowed: true },
} as const;
type Case = keyof typeof CASES;
const ref = (c: Case) => `${sys.host}/policy/${c}:1`;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "signature-policy-e2e-"));
  const layout = new OciLayout(path.join(work, "layout"));
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "signed or not\n")] }), "one");
  containerd = new Containerd();
  box = new ContainersSandbox();
  [sys] = await Promise.all([startSystem(), containerd.start()]);

  const target: RegistryTarget = { baseUrl: sys.registry, fetch: (url, init) => sys.fetch(url, init) };
  const [trusted, untrusted] = [await generateKey(), await generateKey()];
  writeFileSync(path.join(work, "trusted.pem"), trusted.pem);
  const digests = new Map<Case, string>();
  await Promise.all(
    (Object.keys(CASES) as Case[]).map(async (c) => {
      const pushed = await skopeo(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:one`, `docker://${ref(c)}`]);
      expect(pushed.code, pushed.stderr).toBe(0);
      const head = await sys.fetch(`/v2/policy/${c}/manifests/1`, { method: "HEAD", headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
      digests.set(c, head.headers.get("docker-content-digest")!);
    }),
  );
  const repo = (c: Case) => `policy/${c}`;
  await pushSignatureTag(target, repo("untrusted"), digests.get("untrusted")!, untrusted);
  await pushSignatureTag(target, repo("otherdigest"), digests.get("otherdigest")!, trusted, { payloadDigest: `sha256:${"0".repeat(64)}` });
  await pushSignatureTag(target, repo("signed"), digests.get("signed")!, trusted);
  await pushSignatureReferrer(target, repo("referrer"), digests.get("referrer")!, trusted);

  policyId = (JSON.parse(admin("policy", "add", "policy/*", "--key", path.join(work, "trusted.pem"), "--json")) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await containerd?.dispose();
  box?.dispose();
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A pull that must pass exits 0; a refused one fails, and its output says "denied" and names the policy (all three clients print the server's message). */
function expectOutcome(c: Case, r: { code: number; stdout: string; stderr: string }): void {
  const output = r.stderr + r.stdout;
  if (CASES[c].allowed) {
    expect(r.code, output).toBe(0);
    return;
  }
  expect(r.code, output).not.toBe(0);
  expect(output).toMatch(/denied/i);
  expect(output).not.toMatch(/unauthorized|authentication required/i);
  expect(output).toContain(`signature policy ${policyId} (policy/*)`);
}

describe("a pull policy that verifies signatures (pnpm admin policy + skopeo, podman, ctr)", () => {
  test("pnpm admin policy list shows the policy as a table", () => {
    const out = admin("policy", "list");
    expect(out).toMatch(/^ID\s+REPOSITORY\s+MODE\s+KEYS\s+CREATED/);
    expect(out).toMatch(new RegExp(`${policyId}\\s+policy/\\*\\s+enforce\\s+cosign SHA256:`));
  });

  test.each(Object.keys(CASES) as Case[])("skopeo copy of %s", async (c) => {
    const r = await skopeo(["copy", "--src-tls-verify=false", "--src-creds", sys.creds, `docker://${ref(c)}`, `dir:${path.join(work, `skopeo-${c}`)}`]);
    expectOutcome(c, r);
  });

  test.each(Object.keys(CASES) as Case[])("podman pull of %s", async (c) => {
    const r = await box.podman(["pull", "--tls-verify=false", "--creds", sys.creds, ref(c)]);
    expectOutcome(c, r);
  });

  test.each(Object.keys(CASES) as Case[])("ctr images pull of %s", async (c) => {
    const r = await containerd.ctr(`sig-${c}`, ["images", "pull", "--plain-http", "--user", sys.creds, ref(c)]);
    expectOutcome(c, r);
  });
});
