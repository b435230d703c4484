import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Result } from "./skopeo";
import type { RunningSystem } from "./system";

/**
 * Running Debian's container clients (podman, buildah, ctr, docker) from tests: one runner for all of them,
 * a scratch folder per test file, and robot accounts made with the operators' CLI.
 */

const ROOT = path.resolve(__dirname, "../..");

/**
 * Debian's clients by path (scripts/test-prereqs.mjs installs them): never whatever comes first on PATH —
 * /usr/local/bin/docker on these machines is a static Docker CLI 28.2.2 from elsewhere.
 */
export const BIN = {
  podman: "/usr/bin/podman",
  buildah: "/usr/bin/buildah",
  containerd: "/usr/bin/containerd",
  ctr: "/usr/bin/ctr",
  dockerd: "/usr/sbin/dockerd",
  docker: "/usr/bin/docker",
} as const;

export interface RunOptions {
  /** Replaces the environment entirely when given (clients must not read the host's config). */
  env?: NodeJS.ProcessEnv;
  /** Written to the client's stdin (e.g. `--password-stdin`). */
  input?: string;
  timeoutMs?: number;
}

/** Runs a client and returns its exit code and output; never throws on failure. */
export function run(bin: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const missing = (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        const why = missing ? `${bin} is not installed: run  node scripts/test-prereqs.mjs  (as root) first\n` : "";
        resolve({ code, stdout, stderr: why + stderr, ms: Date.now() - started });
      },
    );
    child.stdin?.end(opts.input ?? "");
  });
}

/** The stdout of a command that must have succeeded; otherwise throws with `what` (the command line) and its output. */
export function succeeded(r: Result, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `run`, expecting success: returns stdout. */
export async function must(bin: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return succeeded(await run(bin, args, opts), `${bin} ${args.join(" ")}`);
}

/** A fresh folder under the system's temp dir (the caller removes it). */
export function scratch(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `${prefix}-`));
}

/** How a client says the registry refused its credentials or its scope. */
export const DENIED = /unauthorized|denied|authentication required|insufficient_scope/i;

export interface Robot {
  name: string;
  secret: string;
  /** `name:secret`, as `--creds` / `--user` take it. */
  creds: string;
}

/** Makes a robot account with the operators' CLI (`robots.mjs create --json`), e.g. rules `["ci/*=pull,push"]`. */
export function makeRobot(sys: RunningSystem, name: string, rules: string[]): Robot {
  const secrets = JSON.parse(readFileSync(path.join(sys.stateDir, "auth-secrets.json"), "utf8")) as { adminToken: string };
  const out = execFileSync(
    process.execPath,
    [
      path.join(ROOT, "workers/auth/bin/robots.mjs"),
      "create",
      name,
      ...rules.flatMap((r) => ["--rule", r]),
      "--json",
      "--url",
      sys.auth,
      "--admin-token",
      secrets.adminToken,
    ],
    { encoding: "utf8" },
  );
  const robot = JSON.parse(out) as { name: string; secret: string };
  return { ...robot, creds: `${robot.name}:${robot.secret}` };
}
