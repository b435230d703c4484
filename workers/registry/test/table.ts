import { describe, expect, test } from "vitest";
import { call, errorCode, OCI_INDEX, OCI_MANIFEST, pushImage, sha256 } from "./helpers";

/**
 * The HTTP case tables over the /v2 API (api.test.ts, manifest-push.test.ts): one row per request and what must
 * come back, run in order inside workerd against the real local R2 and Durable Objects.
 */
export interface Row {
  name: string;
  method?: string;
  path: () => string;
  headers?: Record<string, string>;
  body?: () => string | null;
  status: number;
  /** The error code of the envelope (for HEAD: the envelope's Content-Type and an empty body). */
  code?: string;
  expectHeaders?: () => Record<string, string | RegExp>;
  check?: (res: Response) => Promise<void>;
}

/** Runs `rows` in order, one test each. */
export function runTable(title: string, rows: Row[]): void {
  describe(title, () => {
    test.each(rows)("$name", async (row) => {
      const res = await call({ method: row.method ?? "GET", path: row.path(), headers: row.headers ?? {}, body: row.body?.() ?? null });
      expect(res.status, await res.clone().text()).toBe(row.status);
      for (const [k, v] of Object.entries(row.expectHeaders?.() ?? {})) {
        if (v instanceof RegExp) expect(res.headers.get(k)).toMatch(v);
        else expect(res.headers.get(k), k).toBe(v);
      }
      if (row.code) {
        expect(res.headers.get("content-type")).toBe("application/json");
        if (row.method === "HEAD") expect(await res.clone().text()).toBe("");
        else expect(await errorCode(res.clone())).toBe(row.code);
      }
      if (row.check) await row.check(res);
    });
  });
}

/** The fixture image's one layer. */
export const LAYER = "hello layer bytes 0123456789";
/** A well-formed digest of nothing the tables push. */
export const ZERO = `sha256:${"0".repeat(64)}`;

/** What a table's fixture pushed: an image tagged v1 (one layer, LAYER) and an index of it tagged multi. */
export interface Fixture {
  manifest: string;
  manifestBody: string;
  layer: string;
  config: string;
  index: string;
  indexBody: string;
}

/** Pushes the fixture image and index into `repository`. */
export async function pushFixture(repository: string): Promise<Fixture> {
  const image = await pushImage(repository, "v1", [LAYER]);
  const parsed = JSON.parse(image.body) as { config: { digest: string }; layers: { digest: string }[] };
  const indexBody = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: image.digest, size: image.body.length, platform: { os: "linux", architecture: "amd64" } },
    ],
  });
  const ir = await call({ method: "PUT", path: `/v2/${repository}/manifests/multi`, headers: { "Content-Type": OCI_INDEX }, body: indexBody });
  expect(ir.status).toBe(201);
  return {
    manifest: image.digest,
    manifestBody: image.body,
    layer: parsed.layers[0]!.digest,
    config: parsed.config.digest,
    index: await sha256(indexBody),
    indexBody,
  };
}
