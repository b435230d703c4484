import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

export interface RunningSystem {
  /** e.g. http://127.0.0.1:40123 */
  registry: string;
  /** The pull-through mirror's URL. */
  mirror: string;
  /** host:port, as clients write it in image references */
  host: string;
  stateDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the system the way README command 1 does (`node scripts/start.mjs`, bundles already built by
 * `pnpm test`), on free ports and a fresh state directory, and waits for it to print its URLs.
 */
export async function startSystem(env: Record<string, string> = {}): Promise<RunningSystem> {
  const stateDir = mkdtempSync(path.join(tmpdir(), "registry-e2e-"));
  const child = spawn(process.execPath, [path.join(ROOT, "scripts/start.mjs")], {
    cwd: ROOT,
    env: { ...process.env, SKIP_BUILD: "1", REGISTRY_PORT: "0", MIRROR_PORT: "0", STATE_DIR: stateDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`system did not start:\n${out}\n${err}`)), 60_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        const found: Record<string, string> = {};
        for (const m of out.matchAll(/^(\w+)\s+(http:\/\/\S+)$/gm)) found[m[1]!] = m[2]!;
        resolve(found);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`system exited ${code}:\n${out}\n${err}`));
    });
  });
  const registry = urls.registry!;
  return {
    registry,
    mirror: urls.mirror!,
    host: new URL(registry).host,
    stateDir,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
