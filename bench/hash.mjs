// Hash throughput, for the resumable-hash decision (packages/storage/STORAGE.md, "Hashing"): core's hand-written
// SHA-256/SHA-512 against well-kept pure-JS libraries, in Node and in workerd, on the chunk sizes the upload path
// feeds them (1 MiB: READ_CHUNK of packages/storage/src/streams.ts; 64 KiB for comparison). Native hashes that
// cannot save their state (node:crypto, workerd's crypto.DigestStream) are printed as the ceiling. Prints figures,
// never asserts. Run alone with `node bench/hash.mjs` (about 1 minute); `pnpm bench` runs it as section 9.
//
// Libraries are measured when they resolve from the repository (or from BENCH_HASH_LIBS, a node_modules folder,
// e.g. after `npm i --prefix /tmp/h @stablelib/sha256@2.0.1 @stablelib/sha512@2.0.1 @noble/hashes@2.4.0`).
// Env: BENCH_HASH_MIB (32 for SHA-256, half for SHA-512), BENCH_HASH_RUNS (7 rounds over every case, the best is kept).
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, "..");
const require = createRequire(path.join(ROOT, "package.json"));
// esbuild is wrangler's (the version that bundles the workers), not a dependency of its own.
const { build } = await import(pathToFileURL(createRequire(require.resolve("wrangler")).resolve("esbuild")).href);
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);

const MIB = num(process.env.BENCH_HASH_MIB, 32);
const RUNS = num(process.env.BENCH_HASH_RUNS, 7);
const CHUNKS = [64 * 1024, 1024 * 1024];

/** Optional libraries: [label, algorithm, module, export that builds a hasher with update/digest]. */
const LIBRARIES = [
  ["@stablelib", "sha256", "@stablelib/sha256", "SHA256"],
  ["@stablelib", "sha512", "@stablelib/sha512", "SHA512"],
  ["@noble/hashes", "sha256", "@noble/hashes/sha2.js", "sha256"],
  ["@noble/hashes", "sha512", "@noble/hashes/sha2.js", "sha512"],
];

function num(v, d) {
  return v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d;
}

function resolveLibrary(specifier) {
  for (const base of [process.env.BENCH_HASH_LIBS, ROOT].filter(Boolean)) {
    try {
      return createRequire(path.join(base, "x.js")).resolve(specifier);
    } catch {
      /* not installed there */
    }
  }
  return undefined;
}

/** The module bundled for both runtimes: `hashers()` gives name → algorithm → () => {update, finish}. */
function entrySource(libraries) {
  const imports = libraries.map(([, , , exp], i) => `import { ${exp} as lib${i} } from ${JSON.stringify(libraries[i][4])};`);
  const entries = libraries.map(([label, algorithm, , exp], i) => {
    const make = exp.startsWith("SHA") ? `new lib${i}()` : `lib${i}.create()`;
    return `add(${JSON.stringify(label)}, ${JSON.stringify(algorithm)}, () => { const h = ${make}; return { update: (b) => h.update(b), finish: () => h.digest() }; });`;
  });
  return `
import { createHash } from ${JSON.stringify(path.join(ROOT, "packages/core/src/hash.ts"))};
${imports.join("\n")}
const table = {};
const add = (name, algorithm, make) => { (table[name] ??= {})[algorithm] = make; };
for (const algorithm of ["sha256", "sha512"]) {
  add("core (hand-written)", algorithm, () => { const h = createHash(algorithm); return { update: (b) => h.update(b), finish: () => h.digest() }; });
}
${entries.join("\n")}
export function hashers() { return table; }
/** Hashes \`total\` bytes in \`chunk\`-byte updates; returns the number of bytes hashed. */
export async function run(name, algorithm, chunk, total) {
  const bytes = new Uint8Array(chunk);
  for (let i = 0; i < chunk; i++) bytes[i] = (i * 2654435761) >>> 24;
  if (name === "native") {
    const s = new crypto.DigestStream(algorithm === "sha256" ? "SHA-256" : "SHA-512");
    const w = s.getWriter();
    for (let done = 0; done < total; done += chunk) await w.write(bytes);
    await w.close();
    await s.digest;
    return total;
  }
  const h = table[name][algorithm]();
  for (let done = 0; done < total; done += chunk) h.update(bytes);
  h.finish();
  return total;
}
export default {
  async fetch(request) {
    const u = new URL(request.url);
    if (u.pathname === "/list") return Response.json(Object.fromEntries(Object.entries(table).map(([k, v]) => [k, Object.keys(v)])));
    const n = await run(u.searchParams.get("name"), u.searchParams.get("algorithm"), Number(u.searchParams.get("chunk")), Number(u.searchParams.get("total")));
    return new Response(String(n));
  },
};
`;
}

/**
 * Measures every implementation in Node and workerd; `say` gets the printed lines. Returns the rows
 * `{ runtime, implementation, algorithm, chunk, mbps }`.
 */
export async function hashBench(say = console.log) {
  const libraries = LIBRARIES.map((l) => [...l, resolveLibrary(l[2])]).filter((l) => l[4]);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "hash-bench-"));
  const bundle = path.join(tmp, "hash-bench.mjs");
  try {
    await build({
      stdin: { contents: entrySource(libraries), resolveDir: ROOT, sourcefile: "hash-bench-entry.mjs" },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outfile: bundle,
      logLevel: "error",
    });
    const mod = await import(pathToFileURL(bundle).href);
    const names = Object.keys(mod.hashers());
    const missing = [...new Set(LIBRARIES.map((l) => l[2]))].filter((m) => !resolveLibrary(m));
    say(`hash throughput, MB/s (10^6 B/s), best of ${RUNS}; SHA-256 over ${MIB} MiB, SHA-512 over ${MIB / 2} MiB`);
    if (missing.length) say(`  not installed, not measured: ${missing.join(", ")} (see BENCH_HASH_LIBS)`);
    const rows = [];
    const total = (algorithm) => (algorithm === "sha256" ? MIB : MIB / 2) * 1024 * 1024;

    // Every case of both runtimes is warmed up once, then measured in RUNS rounds that go through all the cases in
    // turn (so a burst of load from elsewhere hits every implementation alike); the best time of each is kept.
    const cases = [];
    for (const runtime of ["node", "workerd"]) {
      for (const name of [...names, "native"]) {
        for (const algorithm of ["sha256", "sha512"]) {
          if (name !== "native" && !mod.hashers()[name][algorithm]) continue;
          for (const chunk of CHUNKS) cases.push({ runtime, name, algorithm, chunk, best: Infinity });
        }
      }
    }

    // Node: in-process, timed around each run.
    const { createHash } = await import("node:crypto");
    const inNode = async ({ name, algorithm, chunk }) => {
      const t = performance.now();
      if (name !== "native") {
        await mod.run(name, algorithm, chunk, total(algorithm));
      } else {
        const bytes = new Uint8Array(chunk);
        const h = createHash(algorithm);
        for (let done = 0; done < total(algorithm); done += chunk) h.update(bytes);
        h.digest();
      }
      return performance.now() - t;
    };

    // workerd: its clock stands still while a request computes, so each run is one request timed from Node, less
    // the time of an empty request.
    const mf = new Miniflare({ modules: true, scriptPath: bundle, modulesRoot: tmp, compatibilityDate: "2026-04-01" });
    try {
      const url = await mf.ready;
      const call = async (q) => {
        const t = performance.now();
        const res = await mf.dispatchFetch(new URL(q, url));
        await res.text();
        if (!res.ok) throw new Error(`workerd ${q}: ${res.status}`);
        return performance.now() - t;
      };
      let empty = Infinity;
      for (let r = 0; r < 5; r++) empty = Math.min(empty, await call("/list"));
      const inWorkerd = async ({ name, algorithm, chunk }) =>
        (await call(`/run?name=${encodeURIComponent(name)}&algorithm=${algorithm}&chunk=${chunk}&total=${total(algorithm)}`)) - empty;
      const measure = (c) => (c.runtime === "node" ? inNode(c) : inWorkerd(c));
      for (const c of cases) await measure(c);
      for (let r = 0; r < RUNS; r++) {
        for (const c of cases) c.best = Math.min(c.best, await measure(c));
      }
    } finally {
      await mf.dispose();
    }
    const native = { node: "node:crypto (not resumable)", workerd: "crypto.DigestStream (not resumable)" };
    for (const c of cases) {
      rows.push([c.runtime, c.name === "native" ? native[c.runtime] : c.name, c.algorithm, c.chunk, total(c.algorithm) / 1e3 / c.best]);
    }

    const w = [8, Math.max(...rows.map((r) => r[1].length)), 7, 8];
    say(`  ${"runtime".padEnd(w[0])} ${"implementation".padEnd(w[1])} ${"hash".padEnd(w[2])} ${"chunk".padStart(w[3])}   MB/s`);
    for (const [runtime, name, algorithm, chunk, rate] of rows) {
      const c = chunk >= 1024 * 1024 ? `${chunk / 1024 / 1024} MiB` : `${chunk / 1024} KiB`;
      say(`  ${runtime.padEnd(w[0])} ${name.padEnd(w[1])} ${algorithm.padEnd(w[2])} ${c.padStart(w[3])} ${rate.toFixed(0).padStart(6)}`);
    }
    return rows.map(([runtime, implementation, algorithm, chunk, mbps]) => ({ runtime, implementation, algorithm, chunk, mbps }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await hashBench();
