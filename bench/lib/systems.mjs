// The systems under test, each a tracked child process: ours (`node scripts/start.mjs`), the bare R2 worker
// (bench/bare-r2.mjs), the runtime's ceiling (bench/ceiling.mjs) and Debian's docker-registry; plus preflight
// checks of the tools the bench needs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

import { BENCH, ROOT, say, TMP } from "./context.mjs";
import { waitForV2 } from "./http.mjs";
import { run, spawnTracked, waitForOutput } from "./proc.mjs";

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Keeps the last 16 KiB of a child's output (and keeps its pipes drained). */
export function keepTail(cp) {
  cp.tail = "";
  const on = (d) => {
    cp.tail = (cp.tail + d).slice(-16384);
  };
  cp.stdout?.on("data", on);
  cp.stderr?.on("data", on);
  return cp;
}

/**
 * Our system in a child process (`node scripts/start.mjs`): its process tree is measurable on its own.
 * auth=false (default): REGISTRY_AUTH=off, the raw clients (wrk, curl, Node) carry no tokens and writes are open.
 * auth=true: Docker token auth as deployed (anonymous pull of every repository, writes by the local robot that
 * start.mjs makes: `robot` = { name, secret }).
 */
export async function startOurs(label, { metrics = false, auth = false, env = {} } = {}) {
  const stateDir = path.join(TMP, `state-${label}`);
  mkdirSync(stateDir, { recursive: true });
  const cp = keepTail(
    spawnTracked(process.execPath, [path.join(ROOT, "scripts", "start.mjs")], {
      cwd: ROOT,
      env: {
        ...process.env,
        SKIP_BUILD: "1",
        REGISTRY_PORT: "0",
        AUTH_PORT: "0",
        MIRROR_PORT: "0", // other public services of the system (if any) on free ports too
        REGISTRY_AUTH: auth ? "on" : "off",
        ANONYMOUS_PULL: "*",
        STATE_DIR: stateDir,
        STORAGE_METRICS: metrics ? "on" : "off",
        MAX_REQUEST_BODY: "", // no body limit (one from the caller's environment would refuse the monolithic pushes)
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        RUNTIME_LOG: "off", // the workers' request log lines: not relayed through start.mjs to this process
        ...env,
      },
    }),
  );
  const text = await waitForOutput(cp, /^ready$/m, 60_000, `our system (${label})`);
  const m = /^registry\s+(http:\/\/\S+)/m.exec(text);
  if (!m) throw new Error(`our system (${label}): no registry URL in output:\n${text}`);
  const base = m[1].replace(/\/$/, "");
  if (!auth) await waitForV2(base);
  const mirror = /^mirror\s+(http:\/\/\S+)/m.exec(text)?.[1].replace(/\/$/, "") ?? null;
  const authUrl = /^auth\s+(http:\/\/\S+)/m.exec(text)?.[1].replace(/\/$/, "") ?? null;
  const rm = /^robot\s+(\S+)\s+(\S+)/m.exec(text);
  const robot = rm ? { name: rm[1], secret: rm[2] } : null;
  if (auth && !robot) throw new Error(`our system (${label}): auth on but no robot in its output:\n${text}`);
  return {
    cp,
    base,
    host: new URL(base).host,
    mirror,
    mirrorHost: mirror ? new URL(mirror).host : null,
    auth: authUrl,
    robot,
    stateDir,
    name: "ours",
  };
}

/** A minimal Miniflare worker that only does env.B.put(), in its own process. */
export async function startBareR2() {
  const dir = path.join(TMP, "bare-r2");
  mkdirSync(dir, { recursive: true });
  const cp = keepTail(spawnTracked(process.execPath, [path.join(BENCH, "bare-r2.mjs"), dir], { cwd: ROOT }));
  const text = await waitForOutput(cp, /^ready$/m, 60_000, "bare R2 worker");
  const base = /^url\s+(\S+)/m.exec(text)[1];
  return { cp, base, dir };
}

/**
 * The runtime's ceiling (bench/ceiling.mjs): a worker answering every request with the same manifest bytes from
 * memory, in the same runtime (Miniflare/workerd) and behind the same front (scripts/front.mjs) as ours.
 */
export async function startCeiling(manifest, digest, mediaType) {
  const file = path.join(TMP, "ceiling-manifest.json");
  writeFileSync(file, manifest);
  const cp = keepTail(spawnTracked(process.execPath, [path.join(BENCH, "ceiling.mjs"), file, digest, mediaType], { cwd: ROOT }));
  const text = await waitForOutput(cp, /^ready$/m, 60_000, "ceiling worker");
  const base = /^url\s+(\S+)/m.exec(text)[1];
  return { cp, base, name: "ceiling" };
}

/**
 * Debian's docker-registry (distribution 2.8.2) with filesystem storage under TMP. `accessLog`: its access log
 * (one combined-log line per request on stdout) is kept in `accessLog` of the result (see countUpstream).
 * `root`: storage directory (default TMP/distribution); two processes may serve the same one.
 */
export async function startDistribution({ label = "distribution", root = path.join(TMP, "distribution"), accessLog = false } = {}) {
  const port = await freePort();
  mkdirSync(root, { recursive: true });
  const cfg = path.join(TMP, `${label}.yml`);
  writeFileSync(
    cfg,
    [
      "version: 0.1",
      `log: { level: error, accesslog: { disabled: ${accessLog ? "false" : "true"} } }`,
      `storage: { filesystem: { rootdirectory: ${root} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      "",
    ].join("\n"),
  );
  const cp = keepTail(spawnTracked("docker-registry", ["serve", cfg]));
  const log = [];
  if (accessLog) {
    let partial = "";
    cp.stdout.on("data", (d) => {
      const lines = (partial + d).split("\n");
      partial = lines.pop();
      for (const line of lines) if (line.trim()) log.push(line);
    });
  }
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForV2(base, 20_000),
    cp.exited.then(({ code }) => {
      throw new Error(`docker-registry exited (${code}): ${cp.tail}`);
    }),
  ]);
  return { cp, base, host: `127.0.0.1:${port}`, root, name: "distribution", accessLog: log };
}

const have = (cmd) => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

export async function preflight() {
  if (!have("wrk") && process.getuid?.() === 0) {
    say("wrk missing: apt-get install -y wrk");
    await run("apt-get", ["install", "-y", "wrk"], { timeoutMs: 180_000 });
  }
  const missing = ["wrk", "curl", "skopeo", "docker-registry"].filter((c) => !have(c));
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")} (apt-get install -y skopeo docker-registry wrk curl)`);
  const dist = path.join(ROOT, "workers", "registry", "dist", "index.js");
  if (!existsSync(dist)) throw new Error(`${dist} missing: run \`node scripts/build.mjs\` first (pnpm bench does)`);
}

export function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).split("\n")[0].trim();
  } catch (e) {
    return (e.stdout || e.stderr || "").toString().split("\n")[0].trim() || "unknown";
  }
}
