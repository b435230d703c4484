import { describe, expect, test } from "vitest";
import {
  formatImageReference,
  isRegistryHost,
  isRepositoryName,
  isTag,
  parseImageReference,
  parseReference,
  parseRepositoryName,
  parseTag,
} from "../src/index";
import { expectOciError } from "./expect-error";

const D = `sha256:${"ab".repeat(32)}`;

// distribution-spec "Pulling manifests": <name> grammar, at most 255 characters.
describe("repository names", () => {
  test.each([
    "library/redis",
    "a",
    "a/b/c",
    "foo_bar",
    "foo__bar",
    "foo---bar",
    "a.b",
    "a-b.c_d__e/f",
    "0",
    "ghcr.io/org/x",
    `${"a".repeat(255)}`,
    `${"a/".repeat(127)}a`,
  ])("%s is valid", (name) => {
    expect(parseRepositoryName(name)).toBe(name);
    expect(isRepositoryName(name)).toBe(true);
  });

  test.each([
    ["uppercase", "Foo"],
    ["uppercase in a later component", "library/Redis"],
    ["leading dash", "-a"],
    ["trailing dash", "a-"],
    ["three underscores", "a___b"],
    ["empty component", "a//b"],
    ["leading slash", "/a"],
    ["trailing slash", "a/"],
    ["two periods", "a..b"],
    ["period then dash", "a.-b"],
    ["256 characters", "a".repeat(256)],
    ["empty", ""],
    ["space", "a b"],
    ["colon", "a:b"],
    ["non-ASCII", "café"],
  ])("%s (%s) is NAME_INVALID", (_, name) => {
    expect(isRepositoryName(name)).toBe(false);
    const error = expectOciError(() => parseRepositoryName(name), "NAME_INVALID");
    expect(error.status).toBe(400);
    expect(error.detail).toMatchObject({ name, reason: expect.any(String) });
  });
});

describe("tags", () => {
  test.each(["latest", "v1.0", "_x", `sha256-${"ab".repeat(32)}.sig`, "1", "A-Z_a.z", "x".repeat(128)])("%s is valid", (tag) => {
    expect(parseTag(tag)).toBe(tag);
    expect(isTag(tag)).toBe(true);
  });

  test.each([
    ["129 characters", "x".repeat(129)],
    ["leading period", ".x"],
    ["leading dash", "-x"],
    ["slash", "a/b"],
    ["empty", ""],
    ["colon", "a:b"],
    ["plus", "a+b"],
  ])("%s is MANIFEST_INVALID", (_, tag) => {
    expect(isTag(tag)).toBe(false);
    const error = expectOciError(() => parseTag(tag), "MANIFEST_INVALID");
    expect(error.status).toBe(400);
    expect(error.detail).toBe("invalid tag");
  });
});

describe("parseReference", () => {
  test.each([
    ["latest", { kind: "tag", tag: "latest" }],
    ["v1.2.3", { kind: "tag", tag: "v1.2.3" }],
    [D, { kind: "digest", digest: D }],
  ])("%s", (s, expected) => {
    expect(parseReference(s)).toEqual(expected);
  });

  test.each([
    ["bad tag", "-x", "MANIFEST_INVALID"],
    ["empty", "", "MANIFEST_INVALID"],
    ["bad digest", "sha256:abc", "DIGEST_INVALID"],
    ["unsupported digest", "md5:d41d8cd98f00b204e9800998ecf8427e", "DIGEST_INVALID"],
    ["tag with colon", "a:b", "DIGEST_INVALID"],
  ] as const)("%s → %s", (_, s, code) => {
    expectOciError(() => parseReference(s), code);
  });
});

// docker/distribution reference.ParseNormalizedNamed semantics.
describe("parseImageReference", () => {
  test.each([
    ["alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }, "docker.io/library/alpine:latest"],
    ["alpine:3.19", { registry: "docker.io", repository: "library/alpine", tag: "3.19" }, "docker.io/library/alpine:3.19"],
    ["docker.io/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }, "docker.io/library/alpine:latest"],
    [
      "index.docker.io/library/alpine",
      { registry: "docker.io", repository: "library/alpine", tag: "latest" },
      "docker.io/library/alpine:latest",
    ],
    ["index.docker.io/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }, "docker.io/library/alpine:latest"],
    [`library/alpine@${D}`, { registry: "docker.io", repository: "library/alpine", digest: D }, `docker.io/library/alpine@${D}`],
    ["user/app:1", { registry: "docker.io", repository: "user/app", tag: "1" }, "docker.io/user/app:1"],
    ["ghcr.io/org/app:1", { registry: "ghcr.io", repository: "org/app", tag: "1" }, "ghcr.io/org/app:1"],
    ["localhost:5000/a:b", { registry: "localhost:5000", repository: "a", tag: "b" }, "localhost:5000/a:b"],
    ["localhost/a", { registry: "localhost", repository: "a", tag: "latest" }, "localhost/a:latest"],
    [
      `localhost:5000/a/b:t@${D}`,
      { registry: "localhost:5000", repository: "a/b", tag: "t", digest: D },
      `localhost:5000/a/b:t@${D}`,
    ],
    [`127.0.0.1:8080/x/y@${D}`, { registry: "127.0.0.1:8080", repository: "x/y", digest: D }, `127.0.0.1:8080/x/y@${D}`],
    ["127.0.0.1:8080/x", { registry: "127.0.0.1:8080", repository: "x", tag: "latest" }, "127.0.0.1:8080/x:latest"],
    [`a:b@${D}`, { registry: "docker.io", repository: "library/a", tag: "b", digest: D }, `docker.io/library/a:b@${D}`],
    ["[::1]:5000/a", { registry: "[::1]:5000", repository: "a", tag: "latest" }, "[::1]:5000/a:latest"],
    ["[2001:db8::1]/a/b:c", { registry: "[2001:db8::1]", repository: "a/b", tag: "c" }, "[2001:db8::1]/a/b:c"],
    ["my-registry.example.com:443/team/app:v2", { registry: "my-registry.example.com:443", repository: "team/app", tag: "v2" }, "my-registry.example.com:443/team/app:v2"],
    ["Foo/bar", { registry: "Foo", repository: "bar", tag: "latest" }, "Foo/bar:latest"],
    ["Registry.Example.com/a", { registry: "Registry.Example.com", repository: "a", tag: "latest" }, "Registry.Example.com/a:latest"],
  ])("%s", (input, expected, formatted) => {
    const parsed = parseImageReference(input);
    expect(parsed).toEqual(expected);
    expect(formatImageReference(parsed)).toBe(formatted);
    expect(parseImageReference(formatted)).toEqual(expected);
  });

  test.each([
    ["uppercase path", "ghcr.io/Org/x", "NAME_INVALID"],
    ["uppercase single name", "Alpine", "NAME_INVALID"],
    ["two tags", "a:b:c", "NAME_INVALID"],
    ["empty", "", "NAME_INVALID"],
    ["trailing slash", "ghcr.io/org/", "NAME_INVALID"],
    ["empty tag", "alpine:", "NAME_INVALID"],
    ["registry only", "ghcr.io/", "NAME_INVALID"],
    ["bad registry host", "a_b.com/x", "NAME_INVALID"],
    ["64-hex image ID", "ab".repeat(32), "NAME_INVALID"],
    ["space", "alpine latest", "NAME_INVALID"],
    ["short digest", "alpine@sha256:abc", "DIGEST_INVALID"],
    ["unsupported digest", "alpine@md5:d41d8cd98f00b204e9800998ecf8427e", "DIGEST_INVALID"],
    ["uppercase digest", `alpine@sha256:${"AB".repeat(32)}`, "DIGEST_INVALID"],
  ] as const)("%s (%s) → %s", (_, input, code) => {
    expectOciError(() => parseImageReference(input), code);
  });
});

describe("isRegistryHost", () => {
  test.each([
    ["docker.io", true],
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.1:8080", true],
    ["[::1]:5000", true],
    ["[::1]", true],
    ["-bad.com", false],
    ["a_b.com", false],
    ["host:port", false],
    ["", false],
  ])("%s → %s", (s, expected) => {
    expect(isRegistryHost(s)).toBe(expected);
  });
});
