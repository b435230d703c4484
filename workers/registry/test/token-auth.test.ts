import { describe, expect, test } from "vitest";
import { errorCode, pushBlob, randomBytes, sha256 } from "./helpers";
import { bearer, REALM, repo, tokenRegistry } from "./tokens";

/**
 * Token auth as the registry worker wires it (root wrangler.toml vars, JWKS through the AUTH binding): the
 * token lifetime cap, and cross-repository mounts limited to what the token lets the caller pull.
 */

describe("token lifetime cap (AUTH_MAX_TOKEN_LIFETIME)", () => {
  const path = "/v2/tok/life/tags/list";

  async function status(registry: ReturnType<typeof tokenRegistry>, lifetime: number): Promise<Response> {
    return registry.fetch(path, { headers: bearer(await registry.token([repo("tok/life", "pull")], lifetime)) });
  }

  test("a correctly signed token living longer than the cap is refused with the usual challenge", async () => {
    const registry = tokenRegistry();
    const within = await status(registry, 3600);
    expect(within.status).toBe(404); // authorized: the repository simply has no tags
    expect(await errorCode(within)).toBe("NAME_UNKNOWN");
    const long = await status(registry, 3601);
    expect(long.status).toBe(401);
    expect(await errorCode(long)).toBe("UNAUTHORIZED");
    expect(long.headers.get("www-authenticate")).toBe(
      `Bearer realm="${REALM}",service="edge-registry",scope="repository:tok/life:pull"`,
    );
  });

  test("the cap is configurable, and 3600 s when unset or not a positive integer", async () => {
    expect((await status(tokenRegistry({ AUTH_MAX_TOKEN_LIFETIME: "86400" }), 7200)).status).toBe(404);
    expect((await status(tokenRegistry({ AUTH_MAX_TOKEN_LIFETIME: "600" }), 601)).status).toBe(401);
    for (const unset of [undefined, "", "forever", "-5"]) {
      const registry = tokenRegistry({ AUTH_MAX_TOKEN_LIFETIME: unset });
      expect((await status(registry, 3600)).status, String(unset)).toBe(404);
      expect((await status(registry, 3601)).status, String(unset)).toBe(401);
    }
  });
});

describe("cross-repository mount only from repositories the token can pull", () => {
  const registry = tokenRegistry();
  const metered = tokenRegistry({ STORAGE_METRICS: "on" });

  async function mount(target: string, digest: string, from: string | null, access = [repo(target, "pull", "push")]) {
    const query = `?mount=${digest}${from ? `&from=${from}` : ""}`;
    return registry.fetch(`/v2/${target}/blobs/uploads/${query}`, { method: "POST", headers: bearer(await registry.token(access)) });
  }

  async function blobStatus(target: string, digest: string): Promise<number> {
    const token = await registry.token([repo(target, "pull")]);
    return (await registry.fetch(`/v2/${target}/blobs/${digest}`, { headers: bearer(token) })).status;
  }

  test("a blob only in a repository the token cannot pull: 202 session, with or without from, never readable", async () => {
    const secret = await pushBlob("mnt/private", randomBytes(1000));
    for (const from of [null, "mnt/private"]) {
      const res = await mount("mnt/ci-x", secret, from);
      expect(res.status, String(from)).toBe(202);
      expect(res.headers.get("location")).toMatch(/^\/v2\/mnt\/ci-x\/blobs\/uploads\/[0-9a-f-]{36}$/);
      expect(res.headers.get("docker-content-digest")).toBeNull();
      expect(await blobStatus("mnt/ci-x", secret)).toBe(404);
    }
    // a pull grant on another repository does not open this one
    const other = await mount("mnt/ci-x", secret, null, [repo("mnt/ci-x", "pull", "push"), repo("mnt/elsewhere", "pull")]);
    expect(other.status).toBe(202);
    expect(await blobStatus("mnt/ci-x", secret)).toBe(404);
  });

  test("a refused mount answers like a plain upload: same headers, and nothing looked up elsewhere", async () => {
    const secret = await pushBlob("mnt/private2", randomBytes(1000));
    const absent = await sha256(randomBytes(32));
    const token = await metered.token([repo("mnt/ci-z", "pull", "push")]);
    const post = (query: string) => metered.fetch(`/v2/mnt/ci-z/blobs/uploads/${query}`, { method: "POST", headers: bearer(token) });
    const shape = (res: Response) => ({
      status: res.status,
      names: [...res.headers.keys()].sort(),
      range: res.headers.get("range"),
      chunk: res.headers.get("oci-chunk-min-length"),
      ops: res.headers.get("x-storage-ops"),
    });
    const plain = shape(await post(""));
    expect(plain.status).toBe(202);
    expect(shape(await post(`?mount=${secret}&from=mnt/private2`))).toEqual(plain);
    expect(shape(await post(`?mount=${absent}&from=mnt/private2`))).toEqual(plain);
    const withoutFrom = shape(await post(`?mount=${secret}`));
    expect(withoutFrom).toEqual(shape(await post(`?mount=${absent}`)));
    expect(withoutFrom.names).toEqual(plain.names);
  });

  test("from a repository the token can pull: 201, with from and without, and the bytes are readable", async () => {
    const bytes = randomBytes(2000);
    const shared = await pushBlob("mnt/base", bytes);
    const withFrom = await mount("mnt/ci-a", shared, "mnt/base", [repo("mnt/ci-a", "pull", "push"), repo("mnt/base", "pull")]);
    expect(withFrom.status).toBe(201);
    expect(withFrom.headers.get("docker-content-digest")).toBe(shared);
    const token = await registry.token([repo("mnt/ci-a", "pull")]);
    const got = await registry.fetch(`/v2/mnt/ci-a/blobs/${shared}`, { headers: bearer(token) });
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);

    const withoutFrom = await mount("mnt/ci-b", shared, null, [repo("mnt/ci-b", "pull", "push"), repo("mnt/base", "*")]);
    expect(withoutFrom.status).toBe(201);
    expect(await blobStatus("mnt/ci-b", shared)).toBe(200);
    // already in the target: a mount without from finds it there
    expect((await mount("mnt/ci-b", shared, null)).status).toBe(201);
    // allowed source, but the blob is not there: an ordinary session
    expect((await mount("mnt/ci-c", await sha256("absent"), "mnt/base", [repo("mnt/ci-c", "pull", "push"), repo("mnt/base", "pull")])).status).toBe(202);
  });
});
