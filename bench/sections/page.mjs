// 15. The web page at scale (issue 12 §1): 1,000 repositories and 20,000 tags (one repository of 5,000 tags, 999
// of 15) seeded through the storage layer (lib/gc-host.mjs's seed worker: the registry's own Durable Objects and R2
// bucket by RPC, no HTTP pushes), then the page in Debian's chromium (playwright-core): navigation to the list
// rendered for the home page, a search, the big repository's page and its next page of tags. Median of 5 each.
// No token auth here (gc-host), so the visitor check is the open one; with token auth each page costs one more
// call to the auth service (test/e2e/ui.test.ts checks that path).
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import path from "node:path";

import { anomaly, BENCH, children, NA, ROOT, say, section, targetMissed, TMP } from "../lib/context.mjs";
import { fmtInt, heading, table } from "../lib/format.mjs";
import { request } from "../lib/http.mjs";
import { spawnTracked, stopChild, waitForOutput } from "../lib/proc.mjs";
import { keepTail } from "../lib/systems.mjs";

const CHROMIUM = "/usr/bin/chromium";
const REPOS = 1000;
const BIG_TAGS = 5000;
const SMALL_TAGS = 15;
const RUNS = 5;
const TARGET_MS = 1000;
const sha = (s) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

async function postJson(url, body) {
  const res = await request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), timeoutMs: 300_000 });
  if (res.status >= 300) throw new Error(`POST ${url}: ${res.status} ${res.body.toString().slice(0, 300)}`);
}

/** Two shared blobs, one manifest per repository, and its tags (v0…). */
async function seed(seedUrl) {
  const config = { d: sha("page config\n"), s: 12, l: "page config\n", k: `data/${randomBytes(8).toString("hex")}` };
  const layer = { d: sha("page layer\n".repeat(100)), s: 1100, l: "page layer\n", k: `data/${randomBytes(8).toString("hex")}` };
  await postJson(`${seedUrl}/blobs`, [config, layer]);
  const json = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.d, size: config.s },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layer.d, size: layer.s }],
  });
  const d = sha(json);
  const repo = (name, tags) => ({
    name,
    links: [config, layer].map((b) => ({ d: b.d, s: b.s, k: b.k })),
    manifests: Array.from({ length: tags }, (_, i) => ({ d, json, refs: [config.d, layer.d], tag: `v${String(i).padStart(4, "0")}` })),
  });
  const t0 = performance.now();
  const repos = [repo("page/big", BIG_TAGS), ...Array.from({ length: REPOS - 1 }, (_, i) => repo(`page/r${String(i).padStart(4, "0")}`, SMALL_TAGS))];
  for (let i = 0; i < repos.length; i += 20) await postJson(`${seedUrl}/repos`, repos.slice(i, i + 20));
  return { ms: performance.now() - t0, repositories: REPOS, tags: BIG_TAGS + (REPOS - 1) * SMALL_TAGS };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds from `start()` until `ready` (a function run in the page) is true, RUNS times; the median. */
async function timed(page, start, ready, arg) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await start(i);
    await page.waitForFunction(ready, arg, { timeout: 30_000 });
    ms.push(performance.now() - t0);
  }
  return { median: median(ms), runs: ms };
}

async function measure(base) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
  try {
    const page = await browser.newPage();
    const home = await timed(page, (i) => page.goto(`${base}/?${i}#/`), ([s, n]) => document.querySelectorAll(s).length >= n, ["#repositories li a", 25]);
    const search = await timed(
      page,
      async (i) => {
        await page.fill("input[type=search]", `r09${i}`);
        await page.press("input[type=search]", "Enter");
      },
      () => {
        const q = document.querySelector("input[type=search]").value;
        const hits = [...document.querySelectorAll("#repositories li a")];
        return hits.length === 10 && hits.every((a) => a.textContent.includes(q));
      },
    ).catch(() => null);
    const repo = await timed(page, (i) => page.goto(`${base}/?${i}#/r/${encodeURIComponent("page/big")}`), ([s, n]) => document.querySelectorAll(s).length >= n, ["#tags tbody tr", 50]);
    const more = await timed(page, async () => {
      await page.goto(`${base}/?more#/r/${encodeURIComponent("page/big")}`);
      await page.waitForFunction(() => document.querySelectorAll("#tags tbody tr").length >= 50);
      return page.click("#more");
    }, ([s, n]) => document.querySelectorAll(s).length >= n, ["#tags tbody tr", 100]);
    return { home, search, repo, more };
  } finally {
    await browser.close();
  }
}

async function pageBench() {
  if (!existsSync(CHROMIUM)) return { skipped: `${CHROMIUM} not installed (apt-get install -y chromium)` };
  const dir = mkdtempSync(path.join(TMP, "page-"));
  const cp = keepTail(spawnTracked(process.execPath, [path.join(BENCH, "lib", "gc-host.mjs"), dir, randomBytes(18).toString("base64url"), "seed"], { cwd: ROOT }));
  children.pageHost = cp;
  try {
    const text = await waitForOutput(cp, /^ready$/m, 60_000, "page host");
    const base = /^registry\s+(\S+)/m.exec(text)[1];
    const seeded = await seed(/^seed\s+(\S+)/m.exec(text)[1]);
    return { seeded, ...(await measure(base)) };
  } finally {
    await stopChild(cp);
    children.pageHost = null;
  }
}

export async function pageSection() {
  say(
    heading(
      "15. the web page at scale",
      `${fmtInt(REPOS)} repositories and ~20,000 tags (page/big: ${fmtInt(BIG_TAGS)} tags) seeded through the storage layer, then
Debian's chromium: time from navigation (or Enter, or a click) until the list is on screen; median of ${RUNS}. Target: under ${TARGET_MS} ms.`,
    ),
  );
  const s = await section("page", () => pageBench());
  if (!s) return null;
  if (s.skipped) {
    say(`  skipped: ${s.skipped}`);
    return s;
  }
  const ms = (r) => (r ? `${Math.round(r.median)} ms` : NA);
  say(`  seeded ${fmtInt(s.seeded.repositories)} repositories, ${fmtInt(s.seeded.tags)} tags in ${(s.seeded.ms / 1000).toFixed(1)} s`);
  const rows = [
    ["home (25 repositories)", s.home],
    ["search (a substring, 10 hits)", s.search],
    ["repository of 5,000 tags (first 50)", s.repo],
    ["its next 50 tags (More)", s.more],
  ];
  say(table([["view", "median", "runs (ms)"], ...rows.map(([k, r]) => [k, ms(r), r ? r.runs.map((x) => Math.round(x)).join(" ") : NA])]));
  for (const [k, r] of rows) {
    if (!r) anomaly(`page bench: ${k} did not complete`);
    else if (r.median > TARGET_MS) targetMissed(`web page: ${k} took ${Math.round(r.median)} ms (target ${TARGET_MS} ms)`);
  }
  return s;
}

export function pageSummary(s) {
  if (!s || s.skipped) return [];
  const ms = (r) => (r ? `${Math.round(r.median)} ms` : NA);
  return [
    ["web page: home, 1,000 repositories", ms(s.home), NA, NA],
    ["web page: repository of 5,000 tags", ms(s.repo), NA, NA],
  ];
}
