import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

/**
 * A daemon a test starts (containerd, dockerd): its own config and folders, output in a log file, stopped by
 * its PID. Daemons still running when the test process exits are killed then, so a crashed test run leaves
 * none behind.
 */

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) if (child.pid && child.exitCode === null) process.kill(child.pid, "SIGKILL");
});

export class Daemon {
  private child: ChildProcess | undefined;

  /** `log` collects the daemon's stdout and stderr. */
  constructor(
    readonly bin: string,
    readonly args: string[],
    readonly log: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the daemon and waits until `ready()` holds (polled), or fails with the log's tail. */
  async start(ready: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
    const fd = openSync(this.log, "a");
    const child = spawn(this.bin, this.args, { stdio: ["ignore", fd, fd], cwd: path.dirname(this.log) });
    closeSync(fd);
    this.child = child;
    live.add(child);
    let spawnError: Error | undefined;
    child.once("error", (e) => (spawnError = e));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`${this.bin} did not start (${spawnError.message}): run  node scripts/test-prereqs.mjs  as root`);
      if (child.exitCode !== null) throw new Error(`${this.bin} exited ${child.exitCode}:\n${this.tail()}`);
      if (await ready()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.bin} not ready after ${timeoutMs} ms:\n${this.tail()}`);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) {
      if (child) live.delete(child);
      return;
    }
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(child.pid, "SIGTERM");
    const timer = setTimeout(() => child.exitCode === null && child.pid && process.kill(child.pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
    live.delete(child);
  }

  /** The last lines of the log (for error messages). */
  tail(lines = 30): string {
    return existsSync(this.log) ? readFileSync(this.log, "utf8").split("\n").slice(-lines).join("\n") : "";
  }
}

/**
 * Removes a daemon's folder: first unmounts whatever is still mounted below it (dockerd bind-mounts its
 * data-root and unmounts it only on a clean shutdown), deepest first.
 */
export function removeTree(dir: string): void {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) execFileSync("umount", ["-l", m]);
  rmSync(dir, { recursive: true, force: true });
}
