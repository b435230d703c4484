import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout } from "../support/oci-layout";
import { httpRequest } from "../support/raw-http";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";
import { Distribution, freePort } from "../support/upstream";

/**
 * The mirror's Docker-Hub-style pull limits end to end: a real upstream (Debian's docker-registry), clients
 * told apart by the loopback address they connect from (the front sets `CF-Connecting-IP` from the socket, so
 * address headers a client sends change nothing).
 */

const M = "application/vnd.oci.image.manifest.v1+json";
let upstream: Distribution;
let work: string;
let limited: RunningSystem;
let dead: number;

interface Envelope {
  errors: { code: string; message: string; detail?: unknown }[];
}

/** A request from a given loopback address: this is how a test is a client of its own. */
async function from(localAddress: string, url: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const res = await httpRequest(url, { ...init, localAddress });
  return { ...res, body: res.body.toString() };
}

beforeAll(async () => {
  upstream = new Distribution(await freePort());
  await upstream.start();
  work = mkdtempSync(path.join(tmpdir(), "mirror-limits-e2e-"));
  const layout = new OciLayout(path.join(work, "layout"));
  layout.tag(layout.image({ layers: [layout.layer("l.txt", "limited content\n")] }), "app");
  await ok(["copy", "--dest-tls-verify=false", `oci:${layout.dir}:app`, `docker://${upstream.host}/library/app:1`]);
  dead = await freePort(); // nothing listens there: an upstream that is down
  limited = await startSystem({
    MIRROR_UPSTREAMS: JSON.stringify({
      "docker.io": { url: `http://${upstream.host}`, libraryPrefix: true },
      "dead.example": { url: `http://127.0.0.1:${dead}` },
    }),
    MIRROR_RATE_LIMIT: "3",
    MIRROR_RATE_WINDOW: "3600",
  });
});

afterAll(async () => {
  await limited?.stop();
  await upstream?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("pull limits", () => {
  test("Docker Hub headers, HEAD free, 429 with Retry-After, address headers ignored, per address", async () => {
    const url = `${limited.mirror}/v2/app/manifests/1`;
    const a = "127.0.0.21";
    const claims = (i: number) => ({ Accept: M, "X-Forwarded-For": `10.0.0.${i}`, "CF-Connecting-IP": `198.51.100.${i}` });
    for (let i = 0; i < 3; i++) {
      const res = await from(a, url, { headers: claims(i) });
      expect(res.status).toBe(200);
      expect(res.headers["ratelimit-limit"]).toBe("3;w=3600");
      expect(res.headers["ratelimit-remaining"]).toBe(`${2 - i};w=3600`);
      expect(res.headers["docker-ratelimit-source"]).toBe(a);
      const head = await from(a, url, { method: "HEAD", headers: { Accept: M } });
      expect(head.status).toBe(200);
    }
    const over = await from(a, url, { headers: claims(9) });
    expect(over.status).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    expect((JSON.parse(over.body) as Envelope).errors[0]!.code).toBe("TOOMANYREQUESTS");
    const headStill = await from(a, url, { method: "HEAD", headers: { Accept: M } });
    expect(headStill.status).toBe(200);
    const other = await from("127.0.0.22", url, { headers: { Accept: M } });
    expect(other.status).toBe(200);
    expect(other.headers["docker-ratelimit-source"]).toBe("127.0.0.22");
  });

  test("failed pulls cost nothing: unknown tag (404), upstream down (502), upstream not mirrored (403)", async () => {
    const a = "127.0.0.23";
    const pull = (pathname: string, method = "GET") => from(a, `${limited.mirror}${pathname}`, { method, headers: { Accept: M } });
    expect((await pull("/v2/app/manifests/1", "HEAD")).headers["ratelimit-remaining"]).toBe("3;w=3600");
    const failures: [string, number][] = [
      ["/v2/app/manifests/no-such-tag", 404],
      ["/v2/app/manifests/1?ns=dead.example", 502],
      ["/v2/app/manifests/1?ns=dead.example", 502],
      ["/v2/app/manifests/1?ns=not.mirrored.example", 403],
    ];
    for (const [pathname, status] of failures) {
      const res = await pull(pathname);
      expect(res.status, pathname).toBe(status);
      expect(res.headers["ratelimit-remaining"], pathname).toBe("3;w=3600");
      if (status === 502) {
        expect((JSON.parse(res.body) as Envelope).errors[0]!.message).toBe(`upstream dead.example (http://127.0.0.1:${dead}) is unreachable: connection refused or lost`);
      }
    }
    const served = await pull("/v2/app/manifests/1");
    expect(served.status).toBe(200);
    expect(served.headers["ratelimit-remaining"]).toBe("2;w=3600");
  });

  test("a token from the auth worker counts the pull against its account, with the higher limit", async () => {
    const token = await limited.token("app");
    const res = await from("127.0.0.24", `${limited.mirror}/v2/app/manifests/1`, { headers: { Accept: M, Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers["docker-ratelimit-source"]).toBe(limited.robot.name);
    expect(res.headers["ratelimit-limit"]).toBe("200;w=3600");
    const forged = await from("127.0.0.24", `${limited.mirror}/v2/app/manifests/1`, {
      headers: { Accept: M, Authorization: `Bearer ${token!.slice(0, -4)}AAAA` },
    });
    expect(forged.headers["docker-ratelimit-source"]).toBe("127.0.0.24");
  });
});
