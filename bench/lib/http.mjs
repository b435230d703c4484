// Minimal HTTP client (node:http) for the OCI distribution API: bounded by timeouts, streams file bodies,
// and reads the X-Storage-Ops header of the metrics-on instance.
import http from "node:http";
import { createReadStream, statSync } from "node:fs";

export const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

/**
 * One request. Body: `body` (Buffer/string), `file` (streamed from disk, with Content-Length; `range`
 * { start, end } (inclusive) sends only those bytes of it), or `chunks`
 * (an array of Buffers sent with Transfer-Encoding: chunked, no Content-Length).
 * @returns {Promise<{ status: number, headers: Record<string, string|string[]>, body: Buffer, ms: number }>}
 */
export function request(url, { method = "GET", headers = {}, body, file, range, chunks, timeoutMs = 60_000, keepBody = true } = {}) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers };
    if (body !== undefined) h["Content-Length"] = String(Buffer.byteLength(body));
    else if (file !== undefined) h["Content-Length"] = String(range ? range.end - range.start + 1 : statSync(file).size);
    else if (chunks !== undefined) h["Transfer-Encoding"] = "chunked";
    else if (method === "POST" || method === "PUT" || method === "PATCH") h["Content-Length"] = "0";
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent: false },
      (res) => {
        const parts = [];
        let size = 0;
        res.on("data", (d) => {
          size += d.length;
          if (keepBody && size <= 64 * 1024 * 1024) parts.push(d);
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts), size, ms: performance.now() - started });
        });
        res.on("error", fail);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: timeout after ${timeoutMs} ms`)), timeoutMs);
    function fail(err) {
      clearTimeout(timer);
      reject(err);
    }
    req.on("error", fail);
    if (body !== undefined) req.end(body);
    else if (file !== undefined) {
      const rs = createReadStream(file, { highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
      rs.on("error", (e) => req.destroy(e));
      rs.pipe(req);
    } else if (chunks !== undefined) {
      (async () => {
        for (const c of chunks) {
          if (!req.write(c)) await new Promise((r) => req.once("drain", r));
        }
        req.end();
      })().catch((e) => req.destroy(e));
    } else req.end();
  });
}

/** Throws unless the response status is one of `expected`. */
export function expectStatus(res, expected, what) {
  const ok = Array.isArray(expected) ? expected.includes(res.status) : res.status === expected;
  if (!ok) throw new Error(`${what}: HTTP ${res.status} ${res.body?.toString("utf8").slice(0, 300) ?? ""}`);
  return res;
}

/** The X-Storage-Ops fields by name (absent ones are null after parsing; `fields` lists the ones present). */
const OPS_FIELDS = {
  do: "doCalls",
  "kv-read": "kvRead",
  "kv-write": "kvWrite",
  "r2-a": "classA",
  "r2-b": "classB",
  "r2-delete": "deletes",
  "r2-written": "written",
  "r2-read": "read",
};
/** Fields summed as null when absent everywhere (older builds lack them), the rest as 0. */
const NULLABLE = new Set(["doCalls", "kvRead", "kvWrite"]);

/**
 * Parses `do=0, kv-read=1, kv-write=0, r2-a=0, r2-b=1, r2-delete=0, r2-written=0, r2-read=123` by name: unknown
 * fields go to `other`, absent ones stay null (`do`, `kv-read`, `kv-write`) or 0 (the R2 ones).
 */
export function parseStorageOps(value) {
  const out = zeroOps();
  out.present = false;
  out.fields = [];
  if (!value) return out;
  out.present = true;
  for (const part of String(value).split(",")) {
    const [k, v] = part.trim().split("=");
    if (!k) continue;
    const n = Number(v);
    if (OPS_FIELDS[k]) {
      out[OPS_FIELDS[k]] = n;
      out.fields.push(k);
    } else out.other[k] = n;
  }
  return out;
}

export function addOps(a, b) {
  const other = { ...a.other };
  for (const [k, v] of Object.entries(b.other ?? {})) other[k] = (other[k] ?? 0) + v;
  const sum = { present: a.present && b.present, other, fields: [...new Set([...(a.fields ?? []), ...(b.fields ?? [])])] };
  for (const f of Object.values(OPS_FIELDS)) {
    sum[f] = NULLABLE.has(f) && a[f] == null && b[f] == null ? null : (a[f] ?? 0) + (b[f] ?? 0);
  }
  return sum;
}

export const zeroOps = () => ({
  doCalls: null,
  kvRead: null,
  kvWrite: null,
  classA: 0,
  classB: 0,
  deletes: 0,
  written: 0,
  read: 0,
  present: true,
  fields: [],
  other: {},
});

/** Resolves an upload Location (absolute or relative) and adds digest= to its query. */
export function withDigest(base, location, digest) {
  const u = new URL(location, base);
  u.searchParams.set("digest", digest);
  return u.toString();
}

/**
 * Pushes one blob in a single body-carrying request.
 * mode "post": monolithic POST /blobs/uploads/?digest= with the body (one request; ours supports it).
 * mode "post-put": POST (empty) then PUT <location>?digest= with the whole body (distribution 2.8 ignores a body
 * on POST, so this is its one-request-with-body equivalent).
 * Source: { body } or { file }. `auth`: extra headers (Authorization).
 */
export async function pushBlob(base, repo, digest, src, mode, timeoutMs = 600_000, auth = {}) {
  const t0 = performance.now();
  if (mode === "post") {
    const res = await request(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", ...auth },
      ...src,
      timeoutMs,
    });
    expectStatus(res, 201, `monolithic POST of ${digest} to ${repo}`);
    return { ms: performance.now() - t0, bodyMs: res.ms };
  }
  const start = expectStatus(await request(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: auth }), 202, `POST upload ${repo}`);
  const res = await request(withDigest(base, start.headers.location, digest), {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream", ...auth },
    ...src,
    timeoutMs,
  });
  expectStatus(res, 201, `PUT of ${digest} to ${repo}`);
  return { ms: performance.now() - t0, bodyMs: res.ms };
}

/** Does the registry accept a monolithic POST ?digest= with a body? (probes with a tiny blob) */
export async function supportsMonolithicPost(base, repo, digest, body) {
  const res = await request(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream" },
    body,
  });
  if (res.status === 201) return true;
  if (res.status === 202) return false;
  throw new Error(`probe POST ?digest=: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`);
}

export async function putManifest(base, repo, ref, manifest, auth = {}) {
  const res = await request(`${base}/v2/${repo}/manifests/${ref}`, {
    method: "PUT",
    headers: { "Content-Type": MANIFEST_TYPE, ...auth },
    body: manifest,
  });
  return expectStatus(res, 201, `PUT manifest ${repo}:${ref}`);
}

/** Polls GET /v2/ until it answers 200 (bounded). */
export async function waitForV2(base, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await request(`${base}/v2/`, { timeoutMs: 2000 });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base}/v2/ not answering 200 after ${timeoutMs} ms (${last})`);
}
