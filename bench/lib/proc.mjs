// Child processes for the benchmark: every one is tracked, started in its own process group and killed
// (group-wide) at the end, also when the run fails or is interrupted. Plus a resident-memory sampler that
// sums VmRSS over a process tree.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const live = new Set();

/** spawn(), in a new process group, remembered until it exits. */
export function spawnTracked(cmd, args, opts = {}) {
  const cp = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], ...opts });
  live.add(cp);
  cp.exited = new Promise((resolve) => {
    cp.once("exit", (code, signal) => {
      live.delete(cp);
      resolve({ code, signal });
    });
    cp.once("error", (err) => {
      live.delete(cp);
      resolve({ code: -1, signal: null, error: err });
    });
  });
  return cp;
}

function signalGroup(cp, sig) {
  try {
    process.kill(-cp.pid, sig);
  } catch {
    /* group already gone */
  }
}

/**
 * Stops a tracked child: SIGTERM to the process itself (start.mjs then disposes workerd cleanly), SIGKILL to its
 * whole group after `graceMs`, and SIGKILL to the group in any case so no grandchild (workerd) survives.
 */
export async function stopChild(cp, graceMs = 5000) {
  if (!cp || cp.pid === undefined) return;
  if (cp.exitCode === null && cp.signalCode === null) {
    try {
      process.kill(cp.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    const done = await Promise.race([cp.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) signalGroup(cp, "SIGKILL");
  }
  signalGroup(cp, "SIGKILL");
  await Promise.race([cp.exited, sleep(2000)]);
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every group still alive. */
export function killAllSync() {
  for (const cp of live) signalGroup(cp, "SIGKILL");
}

export async function stopAll() {
  await Promise.all([...live].map((cp) => stopChild(cp, 3000)));
}

/**
 * Runs a command to completion with a hard timeout; never throws on a non-zero exit.
 * @returns {Promise<{ code: number, signal: string|null, stdout: string, stderr: string, ms: number, timedOut: boolean }>}
 */
export async function run(cmd, args, { timeoutMs = 120_000, env } = {}) {
  const started = performance.now();
  const cp = spawnTracked(cmd, args, env ? { env } : {});
  let stdout = "";
  let stderr = "";
  const cap = 4 * 1024 * 1024;
  cp.stdout.on("data", (d) => (stdout = (stdout + d).slice(-cap)));
  cp.stderr.on("data", (d) => (stderr = (stderr + d).slice(-cap)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(cp, "SIGKILL");
  }, timeoutMs);
  const { code, signal, error } = await cp.exited;
  clearTimeout(timer);
  // let the pipes drain
  await Promise.race([
    Promise.all([new Promise((r) => cp.stdout.on("close", r)), new Promise((r) => cp.stderr.on("close", r))]),
    sleep(1000),
  ]);
  if (error) stderr += String(error);
  return { code: code ?? -1, signal, stdout, stderr, ms: performance.now() - started, timedOut };
}

/** Waits (bounded) until `pattern` appears in the child's stdout; resolves to the accumulated text. */
export function waitForOutput(cp, pattern, timeoutMs, label) {
  return new Promise((resolve, reject) => {
    let text = "";
    let errText = "";
    const onData = (d) => {
      text += d;
      if (pattern.test(text)) finish(null);
    };
    const onErr = (d) => (errText = (errText + d).slice(-8000));
    const timer = setTimeout(() => finish(new Error(`${label}: not ready after ${timeoutMs} ms\n${text}\n${errText}`)), timeoutMs);
    cp.exited.then(({ code, signal }) => finish(new Error(`${label} exited early (${code ?? signal})\n${text}\n${errText}`)));
    let done = false;
    function finish(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cp.stdout.off("data", onData);
      if (err) reject(err);
      else resolve(text);
    }
    cp.stdout.on("data", onData);
    cp.stderr.on("data", onErr);
  });
}

/** The pids of a process and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function treePids(root) {
  const seen = new Set();
  const stack = [root];
  while (stack.length && seen.size < 1000) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const c = readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim();
        if (c) for (const x of c.split(/\s+/)) stack.push(Number(x));
      } catch {
        /* task ended */
      }
    }
  }
  return [...seen];
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory (bytes) of a process tree right now. */
export function treeRss(root) {
  return treePids(root).reduce((sum, pid) => sum + rssKiB(pid), 0) * 1024;
}

/** Samples the tree's summed VmRSS every `intervalMs`; stop() returns { peak, last, first, samples } in bytes. */
export function sampleRss(root, intervalMs = 100) {
  let peak = 0;
  let first = 0;
  let last = 0;
  let samples = 0;
  const tick = () => {
    last = treeRss(root);
    if (samples === 0) first = last;
    samples++;
    if (last > peak) peak = last;
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { peak, first, last, samples };
    },
    get peak() {
      return peak;
    },
  };
}
