/**
 * One structured log line and one metrics data point per request, the same in all three workers (issue 12 §3;
 * README "Logs, metrics and statistics"). Runtime-agnostic: standard Request/Response only; the metrics sink is
 * anything with Workers Analytics Engine's `writeDataPoint` (absent = no metrics, e.g. a local runtime without it).
 * Costs no storage call: every field comes from the request, the response headers or what routing already knew.
 */
import { clientAddress } from "./client-address";

/** Workers Analytics Engine's dataset binding, structurally (`AnalyticsEngineDataset`). */
export interface MetricsSink {
  writeDataPoint(point?: { blobs?: (string | null)[]; doubles?: number[]; indexes?: string[] }): void;
}

/**
 * What is known of one request while it runs; routing and access fill in `route`, `repository` and `subject`,
 * the worker its storage operations. Created by `startRequest`, written by `finishRequest`.
 */
export interface RequestRecord {
  readonly worker: string;
  /** Quoted back to the client in `X-Request-Id`: `cf-ray` when Cloudflare's edge gave one, else a new UUID. */
  id: string;
  readonly started: number;
  readonly method: string;
  /** The route table's name ("manifest.get", "token.get"); "unmatched" when no route matched. */
  route: string;
  /** The repository in the path, "" for none. */
  repository: string;
  /** The verified token's `sub`, or "anonymous". */
  subject: string;
  /** A pull (manifest GET by a client, as for rate limits) or a push (manifest PUT), for the metrics. */
  event?: "pull" | "push";
  /** Storage operations of this request as `X-Storage-Ops` writes them (only when metered). */
  ops?: string;
}

/** The request's record, started now. Never throws. */
export function startRequest(worker: string, request: Request): RequestRecord {
  const id = request.headers.get("cf-ray") || crypto.randomUUID();
  return { worker, id, started: Date.now(), method: request.method, route: "unmatched", repository: "", subject: "anonymous" };
}

/** The error code of an `{"errors":[{"code":…}]}` answer (a small JSON body, read from a clone), else null. */
async function errorCode(response: Response, method: string): Promise<string | null> {
  if (response.status < 400 || method === "HEAD" || !response.body) return null;
  if (!(response.headers.get("Content-Type") ?? "").includes("json")) return null;
  if (Number(response.headers.get("Content-Length") ?? 65_536) > 65_536) return null;
  try {
    const body = (await response.clone().json()) as { errors?: { code?: unknown }[] };
    const code = body.errors?.[0]?.code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

function length(headers: Headers): number | null {
  const raw = headers.get("Content-Length");
  return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

/**
 * Ends a request: sets `X-Request-Id` on `response` (a 500 UNKNOWN's own id wins, so the envelope, the header and
 * the log line name the same id), logs one JSON line on stdout and writes one data point to `metrics` (when
 * given). Returns the response, which must have mutable headers. Never throws.
 */
export async function finishRequest(record: RequestRecord, request: Request, given: Response, metrics?: MetricsSink): Promise<Response> {
  let response = given;
  const own = response.headers.get("X-Request-Id");
  if (own && response.status === 500) record.id = own;
  else {
    try {
      response.headers.set("X-Request-Id", record.id);
    } catch {
      // Immutable headers (a response straight from fetch or the cache): the same body under a copy of them.
      response = new Response(response.body, response);
      response.headers.set("X-Request-Id", record.id);
    }
  }
  const status = response.status;
  const line = {
    requestId: record.id,
    worker: record.worker,
    method: record.method,
    route: record.route,
    repository: record.repository,
    status,
    error: await errorCode(response, record.method),
    bytesIn: length(request.headers),
    bytesOut: length(response.headers),
    durationMs: Date.now() - record.started,
    ops: record.ops ?? null,
    client: clientAddress(request),
    subject: record.subject,
    readPath: response.headers.get("X-Read-Path"),
  };
  console.log(JSON.stringify(line));
  try {
    metrics?.writeDataPoint({
      blobs: [record.worker, "request", line.route, line.repository, `${Math.floor(status / 100)}xx`, line.error ?? "", line.method, record.event ?? "", line.readPath ?? ""],
      doubles: [1, line.bytesIn ?? 0, line.bytesOut ?? 0, line.durationMs, status],
      indexes: [line.repository || record.worker],
    });
  } catch (e) {
    console.warn("metrics data point not written:", e);
  }
  return response;
}

/**
 * One data point for something that is not a request (issue 12 §3): a replication execution or a GC/retention
 * run ended. blob2 is `kind`, blob3 the outcome, blob4 the repository ("" for a registry-wide run); doubles are
 * [1, ...figures] as the README's SQL reads them. No-op without a sink; never throws.
 */
export function recordOutcome(
  metrics: MetricsSink | undefined,
  worker: string,
  kind: "replication" | "gc" | "retention",
  outcome: string,
  repository: string,
  figures: readonly number[],
): void {
  try {
    metrics?.writeDataPoint({ blobs: [worker, kind, outcome, repository], doubles: [1, ...figures], indexes: [repository || worker] });
  } catch (e) {
    console.warn("metrics data point not written:", e);
  }
}
