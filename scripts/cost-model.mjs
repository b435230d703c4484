// `pnpm cost`: the monthly cost of serving 10 M and 1 B pulls of one image on Cloudflare's published prices, for
// four designs (docs/COST.md). Per-request operation counts come from `ops` in bench/results/latest.json when the
// bench wrote them, else from the designs' own counts below. Plain Node, no dependencies.
//
//   pnpm cost [--json] [--gross] [--cpu-ms=3] [--do-ms=2] [--isolate-hit=0] [--kv-miss=0] [--ops=<file>]
//             [--colos=330] [--colo-ttl=25] [--colo-miss=<share>]
//
// --gross: no included usage and no $5 subscription (marginal prices only). --cpu-ms: Worker CPU per request.
// --do-ms: Durable Object wall time per DO request. --isolate-hit: share of edge requests answered by the
// in-isolate cache (no KV read). --kv-miss: share of KV reads that miss and go to the Durable Object (+1 KV write).
// --colo-miss: share of digest requests (manifests by digest, blob records) that miss the data centre's Cache API
// and read KV. Without it the share is computed per volume: pulls spread evenly over --colos data centres (for a
// given count the worst case), an entry kept --colo-ttl seconds: 1 / (1 + pulls/s per data centre × ttl).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export * from "./cost-designs.mjs";
import { DESIGNS, DO_SOFT_LIMIT_RPS, IMAGE_GB, MONTH_SECONDS, NONE, PRICES, PRICES_READ_ON, PULL, VOLUMES } from "./cost-designs.mjs";

const KINDS = ["manifestByTag", "manifestByDigest", "blob"];

/** One request kind's counts from the bench's `ops` (missing fields are 0); null when it is not an object. */
function readOp(o) {
  if (!o || typeof o !== "object") return null;
  const n = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
  return { do: n(o.do), kvRead: n(o.kvRead), kvWrite: n(o.kvWrite), r2A: n(o.r2A), r2B: n(o.r2B) };
}

/** `{edge, origin, push?}` from the bench's `ops`, or null when it holds no complete pull counts. */
export function measuredOps(ops) {
  const side = (s) => (KINDS.every((k) => readOp(s?.[k])) ? Object.fromEntries(KINDS.map((k) => [k, readOp(s[k])])) : null);
  const edge = side(ops?.pull?.edge);
  const origin = side(ops?.pull?.origin);
  if (!edge || !origin) return null;
  const push = ops.push && ["manifestByTag", "blobMonolithic"].every((k) => readOp(ops.push[k])) ? ops.push : null;
  return { edge, origin, push };
}

/**
 * The share of digest requests that miss the Cache API and read KV: `p.coloMiss` if set, else for `pulls` a month
 * spread evenly over `p.colos` data centres (Poisson arrivals, the in-isolate hits taken off first), each key kept
 * `p.coloTtlSec` after a miss: one miss, then r × ttl hits, so 1 / (1 + r × ttl) with r the rate per key and place.
 */
export function coloMissShare(pulls, p) {
  if (typeof p.coloMiss === "number") return p.coloMiss;
  const rate = ((pulls / MONTH_SECONDS) * (1 - p.isolateHit)) / p.colos;
  return 1 / (1 + rate * p.coloTtlSec);
}

/**
 * Per-pull usage of a design: Worker requests and CPU, DO requests, KV reads/writes, R2 class A/B. `ops`: what a
 * request costs when it reaches its store. Edge designs: `p.isolateHit` of requests stop at the isolate's cache;
 * with the Cache API, digest requests reach KV at the share `coloMiss`. `origin`: the counts of a KV miss's fallback
 * (the DO path); `p.kvMiss` sends that share of KV reads to it, each backfilling KV with one write.
 */
export function perPull(design, ops, origin, p, coloMiss = 1) {
  const u = { workerRequests: design.authRequests, do: 0, kvRead: 0, kvWrite: 0, r2A: 0, r2B: 0 };
  for (const kind of KINDS) {
    const n = PULL[kind];
    const o = ops[kind];
    const reach = (design.edge ? 1 - p.isolateHit : 1) * (design.colo && kind !== "manifestByTag" ? coloMiss : 1);
    const kvRead = o.kvRead * reach;
    const miss = kvRead > 0 ? p.kvMiss : 0;
    u.workerRequests += n;
    u.kvRead += n * kvRead;
    u.kvWrite += n * (o.kvWrite + miss * kvRead);
    u.do += n * (o.do + miss * kvRead * origin[kind].do);
    u.r2A += n * o.r2A;
    u.r2B += n * (o.r2B + miss * kvRead * Math.max(0, origin[kind].r2B - o.r2B));
  }
  u.cpuMs = u.workerRequests * p.cpuMs;
  return u;
}

/** Cost of `used` units at `{included, perMillion | perUnit}`; `gross` ignores what is included. */
function charge(used, price, gross) {
  const billable = Math.max(0, used - (gross ? 0 : price.included));
  return price.perMillion !== undefined ? (billable / 1e6) * price.perMillion : billable * price.perUnit;
}

/**
 * The monthly bill of `pulls` pulls with per-pull usage `u` (pure). One repository, so one Durable Object: its
 * billed wall time is at most the month. Assumes this workload is alone on the account (it gets all included usage).
 */
export function monthlyCost(pulls, u, p, prices = PRICES) {
  const g = Boolean(p.gross);
  const { workers: W, r2: R, kv: K, durableObjects: D } = prices;
  const total = (x) => x * pulls;
  const doRequests = total(u.do);
  const doSeconds = Math.min((doRequests * p.doMs) / 1000, doRequests > 0 ? MONTH_SECONDS : 0);
  const cost = {
    workers: (g ? 0 : W.subscription) + charge(total(u.workerRequests), W.requests, g) + charge(total(u.cpuMs), W.cpuMs, g),
    r2Ops: charge(total(u.r2A), R.classA, g) + charge(total(u.r2B), R.classB, g),
    r2Storage: charge(p.imageGb, R.storageGbMonth, g),
    kv: charge(total(u.kvRead), K.reads, g) + charge(total(u.kvWrite), K.writes, g),
    do: charge(doRequests, D.requests, g) + charge(doSeconds * D.memoryGb, D.gbSeconds, g) + charge(doRequests * p.doRowsRead, D.rowsRead, g),
  };
  cost.total = cost.workers + cost.r2Ops + cost.r2Storage + cost.kv + cost.do;
  const doRps = doRequests / MONTH_SECONDS;
  return { pulls, cost, doRps, overDoSoftLimit: doRps > DO_SOFT_LIMIT_RPS };
}

// coloMiss null: computed per volume. colos: Cloudflare has data centres in "over 330 cities"; pulls spread evenly
// over all of them is the worst case. coloTtlSec: edgeTiming(60).coloTtlSec (packages/storage/src/edge-stores.ts).
export const DEFAULTS = { cpuMs: 3, doMs: 2, doRowsRead: 2, isolateHit: 0, kvMiss: 0, imageGb: IMAGE_GB, gross: false };
Object.assign(DEFAULTS, { coloMiss: null, colos: 330, coloTtlSec: 25 });

/** One row: design `key` at `pulls` a month, from measured ops (or null for the design's own counts). */
function rowFor(key, pulls, measured, p) {
  const design = DESIGNS[key];
  let ops = design.ops;
  if (measured && key === "before") ops = measured.origin;
  if (measured && design.edge) ops = kvServed(measured.edge);
  const coloMiss = design.colo ? coloMissShare(pulls, p) : null;
  const u = perPull(design, ops, measured ? measured.origin : DESIGNS.before.ops, p, coloMiss ?? 1);
  return { design: key, label: design.label, coloMiss, perPull: u, ...monthlyCost(pulls, u, p) };
}

/**
 * Pulls a month above which the edge with the Cache API costs less than the Durable Object design: the last
 * crossing between 1 M and 1e12 (below ~1 M both stay near the included usage); 0: less at every volume from
 * 1 M; null: never.
 */
export function breakEven(measured, p) {
  const dearer = (n) => rowFor("edge", n, measured, p).cost.total > rowFor("before", n, measured, p).cost.total;
  if (dearer(1e12)) return null;
  let n = 1e12;
  while (n > 1e6 && !dearer(n)) n /= 1.1;
  if (n <= 1e6) return 0;
  let [lo, hi] = [n, n * 1.1]; // dearer at lo, not at hi
  for (let i = 0; i < 50; i++) {
    const mid = Math.sqrt(lo * hi);
    if (dearer(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The whole model: every design at 10 M and 1 B pulls, from measured ops (or null for the designs' counts). */
export function model(measured, params = {}) {
  const p = { ...DEFAULTS, ...params };
  const rows = Object.keys(DESIGNS).flatMap((key) => VOLUMES.map((pulls) => rowFor(key, pulls, measured, p)));
  return { params: p, source: measured ? "measured" : "design", rows, breakEven: breakEven(measured, p) };
}

/**
 * Measured edge counts as what a request costs once it reaches KV. A request a tier in front of KV answered (the
 * isolate, or the Cache API for a digest: no KV read, no DO call) counts 1 KV read; the isolate-hit and colo-miss
 * shares then take the hits off, so a hit the bench measured is not counted as a saving twice.
 */
function kvServed(edge) {
  const fix = (o) => (o.kvRead < 1 && o.do === 0 ? { ...o, kvRead: 1 } : o);
  return Object.fromEntries(KINDS.map((k) => [k, fix(edge[k])]));
}

/** Usage and marginal cost (no included usage) of one push of the image: 2 manifest PUTs + 6 monolithic blobs. */
export function pushCost(push, prices = PRICES) {
  const m = readOp(push.manifestByTag);
  const b = readOp(push.blobMonolithic);
  const u = Object.fromEntries(Object.keys(NONE).map((k) => [k, 2 * m[k] + PULL.blob * b[k]]));
  const D = prices.durableObjects;
  const dollars =
    ((2 + PULL.blob) * prices.workers.requests.perMillion + u.do * D.requests.perMillion) / 1e6 +
    (u.kvWrite * prices.kv.writes.perMillion + u.kvRead * prices.kv.reads.perMillion) / 1e6 +
    (u.r2A * prices.r2.classA.perMillion + u.r2B * prices.r2.classB.perMillion) / 1e6;
  return { ops: u, dollarsPer1000: dollars * 1000 };
}

const money = (x) => {
  const digits = x > 0 && x < 0.01 ? 4 : 2; // the image's storage alone is a fraction of a cent
  return `$${x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
};
const count = (n) => (n >= 1e9 ? `${n / 1e9} B` : `${n / 1e6} M`);
const num = (x) => String(Math.round(x * 100) / 100);
const pct = (x) => `${Math.round(x * 1000) / 10} %`;

/** The report as text (what `pnpm cost` prints). */
export function render(result, info) {
  const { params: p, rows } = result;
  const out = [];
  out.push(`Monthly cost of serving pulls of one image (index + platform manifest + config + 5 layers, ${p.imageGb * 1000} MB)`);
  out.push(`Prices read ${PRICES_READ_ON} (docs/COST.md has the sources)${p.gross ? "; gross: no included usage, no subscription" : "; Workers Paid plan, included usage applied, $5 subscription in Workers"}`);
  out.push(`Operation counts: ${info}`);
  const colo = typeof p.coloMiss === "number" ? `${pct(p.coloMiss)} (fixed)` : `computed per volume, ${p.colos} data centres, ${p.coloTtlSec} s per entry`;
  out.push(`Assumed: ${p.cpuMs} ms Worker CPU per request, ${p.doMs} ms DO wall time per DO request, ${p.doRowsRead} SQLite rows read per DO request, in-isolate cache hits ${pct(p.isolateHit)}, KV misses ${pct(p.kvMiss)}, Cache API misses ${colo}`);
  out.push("");
  const head = ["design", "pulls/month", "KV reads/pull", "Workers", "R2 ops", "R2 storage", "KV", "DO", "total $/month"];
  const costs = (r) => ["workers", "r2Ops", "r2Storage", "kv", "do", "total"].map((k) => money(r.cost[k]));
  const table = rows.map((r) => [r.label, count(r.pulls), num(r.perPull.kvRead), ...costs(r)]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  out.push(line(head), widths.map((w) => "-".repeat(w)).join("  "), ...table.map(line));
  out.push("", "Per pull:");
  for (const r of rows) {
    const u = r.perPull;
    const at = r.coloMiss === null ? "" : ` at ${count(r.pulls)} (Cache API misses ${pct(r.coloMiss)} of digest requests)`;
    if (r.pulls !== VOLUMES[0] && !at) continue;
    out.push(`  ${r.label}${at}: ${num(u.workerRequests)} Worker requests, ${num(u.do)} DO requests, ${num(u.kvRead)} KV reads, ${num(u.kvWrite)} KV writes, ${num(u.r2A)} R2 class A, ${num(u.r2B)} R2 class B`);
  }
  for (const r of rows.filter((x) => x.overDoSoftLimit)) {
    out.push(`  ! ${r.label} at ${count(r.pulls)}: ${Math.round(r.doRps).toLocaleString("en-US")} DO requests/s on average on one object, over the ${DO_SOFT_LIMIT_RPS}/s soft limit of a Durable Object`);
  }
  const b = result.breakEven;
  const when = b === null ? "never (up to 1e12 pulls/month)" : b === 0 ? "at every volume from 1 M pulls/month" : `above ${count(Math.round(b / 1e5) * 1e5)} pulls/month (below, more)`;
  out.push("", `Break-even: the edge on a custom domain costs less than the Durable Object design (before KV) ${when}`);
  return out.join("\n");
}

function parseArgs(argv) {
  const params = {};
  const names = { "cpu-ms": "cpuMs", "do-ms": "doMs", "isolate-hit": "isolateHit", "kv-miss": "kvMiss", colos: "colos" };
  Object.assign(names, { "colo-ttl": "coloTtlSec", "colo-miss": "coloMiss" });
  let json = false;
  let opsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "bench", "results", "latest.json");
  for (const arg of argv) {
    const [flag, value] = arg.replace(/^--/, "").split("=");
    if (flag === "json") json = true;
    else if (flag === "gross") params.gross = true;
    else if (flag === "ops" && value) opsFile = value;
    else if (names[flag] && value !== undefined && Number.isFinite(Number(value))) params[names[flag]] = Number(value);
    else throw new Error(`unknown argument ${arg} (see the head of scripts/cost-model.mjs)`);
  }
  return { params, json, opsFile };
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const { params, json, opsFile } = args;
  let bench = null;
  if (existsSync(opsFile)) bench = JSON.parse(readFileSync(opsFile, "utf8"));
  const measured = measuredOps(bench?.ops);
  const where = path.relative(process.cwd(), opsFile);
  const info = measured
    ? `measured, ${where} "ops" (${bench.meta?.date ?? "undated"}, commit ${bench.meta?.commit ?? "?"}); serverless-registry from its design`
    : `the designs' own counts (${existsSync(opsFile) ? `${where} has no "ops.pull"` : `no ${where}`})`;
  const result = model(measured, params);
  const push = measured?.push ? pushCost(measured.push) : null;
  if (json) {
    console.log(JSON.stringify({ pricesReadOn: PRICES_READ_ON, prices: PRICES, pull: PULL, info, ...result, push }, null, 2));
    return;
  }
  console.log(render(result, info));
  if (push) {
    const u = push.ops;
    console.log(`\nOne push of the image after KV (measured; 2 manifest PUTs + 6 monolithic blobs): ${u.do} DO, ${u.kvWrite} KV writes, ${u.r2A} R2 class A — ${money(push.dollarsPer1000)} per 1,000 pushes at marginal prices`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
