// Child processes for the benchmark: every one is tracked, started in its own process group and killed
// (group-wide) at the end, also when the run fails or is interrupted. Plus a resident-memory sampler that
// sums VmRSS over a process tree.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
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
  const drained = Promise.all([new Promise((r) => cp.stdout.once("close", r)), new Promise((r) => cp.stderr.once("close", r))]);
  cp.stdout.on("data", (d) => (stdout = (stdout + d).slice(-cap)));
  cp.stderr.on("data", (d) => (stderr = (stderr + d).slice(-cap)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(cp, "SIGKILL");
  }, timeoutMs);
  const { code, signal, error } = await cp.exited;
  const ms = performance.now() - started;
  clearTimeout(timer);
  // let the pipes drain (bounded: a grandchild could keep them open)
  await Promise.race([drained, sleep(2000)]);
  if (error) stderr += String(error);
  return { code: code ?? -1, signal, stdout, stderr, ms, timedOut };
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

function commName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/** Resident memory (bytes) of a process tree right now; with byName, also per command name. */
export function treeRss(root, byName) {
  let sum = 0;
  for (const pid of treePids(root)) {
    const kib = rssKiB(pid);
    sum += kib;
    if (byName) {
      const n = commName(pid);
      byName[n] = (byName[n] ?? 0) + kib * 1024;
    }
  }
  return sum * 1024;
}

/**
 * Samples the tree's summed VmRSS every `intervalMs`. stop() returns { peak, first, last, samples, peakByName }
 * in bytes (peakByName: each command's share in the sample where the total peaked); mark() returns the same for
 * the span since the previous mark() and starts a new span (per-section peaks).
 */
export function sampleRss(root, intervalMs = 100) {
  const span = () => ({ peak: 0, first: 0, last: 0, samples: 0, peakByName: {} });
  const all = span();
  let cur = span();
  const tick = () => {
    const byName = {};
    const v = treeRss(root, byName);
    for (const s of [all, cur]) {
      if (s.samples === 0) s.first = v;
      s.samples++;
      s.last = v;
      if (v > s.peak) {
        s.peak = v;
        s.peakByName = byName;
      }
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    mark() {
      tick();
      const r = cur;
      cur = span();
      return r;
    },
    stop() {
      clearInterval(timer);
      tick();
      return all;
    },
    get peak() {
      return all.peak;
    },
  };
}

/** TCP ports a process listens on on 127.0.0.1 (from /proc/net/tcp and its socket fds). */
export function listeningPorts(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    return [];
  }
  const ports = [];
  try {
    for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A") continue; // LISTEN
      const [addr, port] = f[1].split(":");
      if (addr === "0100007F" && inodes.has(f[9])) ports.push(parseInt(port, 16));
    }
  } catch {
    /* no procfs */
  }
  return ports;
}
