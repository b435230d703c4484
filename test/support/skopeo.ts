import { execFile } from "node:child_process";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs Debian's skopeo (unmodified) and returns its exit code and output; never throws on failure. */
export function skopeo(args: string[], timeoutMs = 600_000): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile("skopeo", args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** skopeo, expecting success. */
export async function ok(args: string[]): Promise<string> {
  const r = await skopeo(args);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}
