// Request sequences with their storage operations (X-Storage-Ops of the metrics-on instance), and the
// per-request operation counts written under `ops` in results/latest.json for the cost model.
import { MiB } from "./files.mjs";
import { fmtInt } from "./format.mjs";
import { addOps, expectStatus, parseStorageOps, request, withDigest, zeroOps } from "./http.mjs";

/** Sum of X-Storage-Ops over a sequence of requests; keeps each step too. */
export function opsOf(steps) {
  const total = steps.reduce((a, s) => addOps(a, s.ops), zeroOps());
  return { ...total, steps: steps.map((s) => ({ step: s.step, status: s.status, readPath: s.readPath ?? null, ...s.ops })) };
}

/** One request of a sequence: status checked, X-Storage-Ops and X-Read-Path kept. */
export async function stepped(step, url, opts, expected) {
  const r = await request(url, opts);
  expectStatus(r, expected, step);
  return { step, status: r.status, ops: parseStorageOps(r.headers["x-storage-ops"]), readPath: r.headers["x-read-path"] ?? null, res: r };
}

/**
 * POST + PATCH + PUT of one blob; chunked=true sends the PATCH with Transfer-Encoding: chunked (no
 * Content-Length, as docker and containerd do). `auth`: extra headers (Authorization) on every request.
 */
export async function pushSteps(base, repo, body, digest, { chunked = false, auth = {} } = {}) {
  const post = await stepped("POST", `${base}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: auth }, 202);
  const loc = new URL(post.res.headers.location, base).toString();
  const chunks = [];
  if (chunked) for (let o = 0; o < body.length; o += MiB) chunks.push(body.subarray(o, Math.min(o + MiB, body.length)));
  const patch = await stepped(
    chunked ? "PATCH (chunked)" : "PATCH",
    loc,
    {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", ...auth },
      ...(chunked ? { chunks } : { body }),
      timeoutMs: 120_000,
    },
    202,
  );
  const put = await stepped("PUT", withDigest(base, patch.res.headers.location ?? loc, digest), { method: "PUT", headers: auth }, 201);
  return [post, patch, put];
}

/**
 * Chunked upload of a file: POST, one PATCH per `chunkSize` bytes (Content-Range and Content-Length, streamed
 * from the file), PUT ?digest=. Returns { ms, patches }.
 */
export async function pushFileChunked(base, repo, file, size, digest, chunkSize, timeoutMs = 900_000) {
  const t0 = performance.now();
  const post = expectStatus(await request(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" }), 202, `POST upload ${repo}`);
  let loc = new URL(post.headers.location, base).toString();
  let patches = 0;
  for (let start = 0; start < size; start += chunkSize) {
    const end = Math.min(start + chunkSize, size) - 1;
    const r = await request(loc, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${end}` },
      file,
      range: { start, end },
      timeoutMs,
    });
    expectStatus(r, 202, `PATCH ${start}-${end} of ${repo}`);
    loc = new URL(r.headers.location ?? loc, base).toString();
    patches++;
  }
  expectStatus(await request(withDigest(base, loc, digest), { method: "PUT", timeoutMs }), 201, `PUT ?digest= of ${repo}`);
  return { ms: performance.now() - t0, patches };
}

/** `3 / – / 0` style cell: a count, or "–" when the header had no such field. */
export const cnt = (v) => (v == null ? "–" : fmtInt(v));

/** The per-request counts of the cost model (`ops` in latest.json): absent fields count as 0. */
export function costOps(o) {
  if (!o || o.error) return null;
  return {
    do: o.doCalls ?? 0,
    kvRead: o.kvRead ?? 0,
    kvWrite: o.kvWrite ?? 0,
    r2A: o.classA ?? 0,
    r2B: o.classB ?? 0,
    ...(o.steps?.length > 1 ? { requests: o.steps.length } : {}),
  };
}
