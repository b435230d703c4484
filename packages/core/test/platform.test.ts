import { describe, expect, test } from "vitest";
import { formatPlatform, normalizePlatform, parsePlatform, platformMatches, selectManifest } from "../src/index";
import type { Descriptor, Digest, Platform } from "../src/index";

const p = (s: string): Platform => parsePlatform(s);

describe("parsePlatform / formatPlatform", () => {
  test.each<[string, Platform, string]>([
    ["linux/amd64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }, "linux/arm64/v8"],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }, "linux/arm/v7"],
    ["Linux/x86_64", { os: "Linux", architecture: "x86_64" }, "Linux/x86_64"],
    ["windows/amd64:10.0.17763", { os: "windows", architecture: "amd64", "os.version": "10.0.17763" }, "windows(10.0.17763)/amd64"],
    ["windows(10.0.17763.1234)/amd64", { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" }, "windows(10.0.17763.1234)/amd64"],
  ])("%s", (s, expected, formatted) => {
    expect(parsePlatform(s)).toEqual(expected);
    expect(formatPlatform(expected)).toBe(formatted);
    expect(parsePlatform(formatted)).toEqual(expected);
  });

  test.each(["", "linux", "/amd64", "linux/", "linux/amd64/v8/extra", "linux amd64", "linux/am d64", "linux/arm//v7", "windows(10.0)/amd64:10.0", "linux/amd64:"])(
    "%j is rejected",
    (s) => {
      expect(() => parsePlatform(s)).toThrow(Error);
    },
  );
});

describe("normalizePlatform", () => {
  test.each<[string, string]>([
    ["linux/x86_64", "linux/amd64"],
    ["linux/x86-64", "linux/amd64"],
    ["linux/AMD64", "linux/amd64"],
    ["linux/amd64/v1", "linux/amd64"],
    ["linux/amd64/v3", "linux/amd64/v3"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/aarch64/8", "linux/arm64"],
    ["linux/arm64/v9", "linux/arm64/v9"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/7", "linux/arm/v7"],
    ["linux/arm/6", "linux/arm/v6"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armel", "linux/arm/v6"],
    ["linux/i386", "linux/386"],
    ["linux/x86", "linux/386"],
    ["macos/arm64", "darwin/arm64"],
    ["Windows/AMD64", "windows/amd64"],
    ["linux/ppc64le", "linux/ppc64le"],
  ])("%s → %s", (input, expected) => {
    expect(formatPlatform(normalizePlatform(p(input)))).toBe(expected);
  });

  test("keeps os.version and features", () => {
    expect(normalizePlatform({ os: "Windows", architecture: "x86_64", "os.version": "10.0.1", "os.features": ["win32k"] })).toEqual({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.1",
      "os.features": ["win32k"],
    });
  });
});

describe("platformMatches", () => {
  test.each<[string, Platform, Platform, boolean]>([
    ["same", p("linux/amd64"), p("linux/amd64"), true],
    ["x86_64 wanted, amd64 image", p("linux/x86_64"), p("linux/amd64"), true],
    ["aarch64 wanted, arm64 image", p("linux/aarch64"), p("linux/arm64"), true],
    ["arm64/v8 ≡ arm64", p("linux/arm64"), p("linux/arm64/v8"), true],
    ["arm64 ≡ arm64/v8", p("linux/arm64/v8"), p("linux/arm64"), true],
    ["different arch", p("linux/amd64"), p("linux/arm64"), false],
    ["different os", p("linux/amd64"), p("windows/amd64"), false],
    ["empty wanted variant matches any (amd64/v3)", p("linux/amd64"), p("linux/amd64/v3"), true],
    ["arm/v7 accepts v7", p("linux/arm/v7"), p("linux/arm/v7"), true],
    ["arm/v7 accepts v6", p("linux/arm/v7"), p("linux/arm/v6"), true],
    ["arm/v7 accepts v5", p("linux/arm/v7"), p("linux/arm/v5"), true],
    ["arm/v7 refuses v8", p("linux/arm/v7"), p("linux/arm/v8"), false],
    ["arm/v6 refuses v7", p("linux/arm/v6"), p("linux/arm/v7"), false],
    ["arm means arm/v7", p("linux/arm"), p("linux/arm/v7"), true],
    ["arm image means arm/v7", p("linux/arm/v6"), p("linux/arm"), false],
    ["amd64/v3 accepts v2", p("linux/amd64/v3"), p("linux/amd64/v2"), true],
    ["amd64/v3 accepts plain amd64", p("linux/amd64/v3"), p("linux/amd64"), true],
    ["amd64/v2 refuses v3", p("linux/amd64/v2"), p("linux/amd64/v3"), false],
    ["unknown variant must be equal", p("linux/riscv64/rva23"), p("linux/riscv64"), false],
    ["windows build matches any revision", p("windows/amd64:10.0.17763"), p("windows/amd64:10.0.17763.5329"), true],
    ["windows revision differs, same build", p("windows/amd64:10.0.17763.1"), p("windows/amd64:10.0.17763.5329"), true],
    ["windows build differs", p("windows/amd64:10.0.20348"), p("windows/amd64:10.0.17763.5329"), false],
    ["os.version wanted, none on image", p("windows/amd64:10.0.17763"), p("windows/amd64"), false],
    ["no os.version wanted", p("windows/amd64"), p("windows/amd64:10.0.17763.5329"), true],
    [
      "wanted features are a subset",
      { os: "linux", architecture: "amd64", features: ["sse4"] },
      { os: "linux", architecture: "amd64", features: ["sse4", "avx"] },
      true,
    ],
    ["wanted feature missing", { os: "linux", architecture: "amd64", features: ["avx512"] }, { os: "linux", architecture: "amd64" }, false],
    [
      "wanted os.features missing",
      { os: "windows", architecture: "amd64", "os.features": ["win32k"] },
      { os: "windows", architecture: "amd64" },
      false,
    ],
  ])("%s", (_, wanted, candidate, expected) => {
    expect(platformMatches(wanted, candidate)).toBe(expected);
  });
});

let n = 0;
const entry = (platform?: string | Platform): Descriptor => {
  n++;
  const d: Descriptor = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${n.toString(16).padStart(64, "0")}` as Digest,
    size: 100 + n,
  };
  if (platform !== undefined) d.platform = typeof platform === "string" ? p(platform) : platform;
  return d;
};

// The seed's example index.
const seedIndex = [entry("linux/amd64"), entry("linux/arm/v7"), entry("linux/arm64/v8"), entry("linux/ppc64le"), entry("linux/s390x")];

describe("selectManifest from the seed's index", () => {
  test.each<[string, number | undefined]>([
    ["linux/amd64", 0],
    ["linux/x86_64", 0],
    ["linux/arm/v7", 1],
    ["linux/arm", 1],
    ["linux/armhf", 1],
    ["linux/arm/v8", 1],
    ["linux/arm64", 2],
    ["linux/aarch64", 2],
    ["linux/arm64/v8", 2],
    ["linux/ppc64le", 3],
    ["linux/s390x", 4],
    ["linux/arm/v6", undefined],
    ["linux/386", undefined],
    ["windows/amd64", undefined],
    ["darwin/arm64", undefined],
  ])("%s → entry %s", (wanted, index) => {
    expect(selectManifest(seedIndex, p(wanted))).toBe(index === undefined ? undefined : seedIndex[index]);
  });
});

describe("selectManifest preferences", () => {
  test.each<[string, string, (string | Platform | undefined)[], number | undefined]>([
    ["arm/v7 prefers the highest compatible (v6 over v5)", "linux/arm/v7", ["linux/arm/v5", "linux/arm/v6"], 1],
    ["arm/v6 finds nothing in [v7]", "linux/arm/v6", ["linux/arm/v7"], undefined],
    ["arm/v7 prefers the exact variant", "linux/arm/v7", ["linux/arm/v6", "linux/arm/v7", "linux/arm/v5"], 1],
    ["arm/v8 takes v7 over v6", "linux/arm/v8", ["linux/arm/v6", "linux/arm/v7"], 1],
    ["entries without platform are skipped", "linux/amd64", [undefined, "linux/amd64"], 1],
    ["ties go to the first entry", "linux/amd64", ["linux/amd64", "linux/amd64", "linux/x86_64"], 0],
    ["empty wanted variant prefers no variant", "linux/amd64", ["linux/amd64/v3", "linux/amd64"], 1],
    ["empty wanted variant takes any when alone", "linux/amd64", ["linux/arm64", "linux/amd64/v2"], 1],
    [
      "windows: exact os.version first",
      "windows/amd64:10.0.17763.5329",
      ["windows/amd64:10.0.17763.1000", "windows/amd64:10.0.17763.5329", "windows/amd64:10.0.20348.1"],
      1,
    ],
    [
      "windows: closest revision",
      "windows/amd64:10.0.17763.5000",
      ["windows/amd64:10.0.17763.1000", "windows/amd64:10.0.17763.5100", "windows/amd64:10.0.17763.6000"],
      1,
    ],
    [
      "windows: build without revision takes the newest revision",
      "windows/amd64:10.0.17763",
      ["windows/amd64:10.0.17763.1000", "windows/amd64:10.0.17763.6000", "windows/amd64:10.0.20348.9999"],
      1,
    ],
    ["windows: other build only", "windows/amd64:10.0.17763", ["windows/amd64:10.0.20348.1"], undefined],
    ["empty index", "linux/amd64", [], undefined],
  ])("%s", (_, wanted, platforms, index) => {
    const entries = platforms.map((x) => entry(x));
    const chosen = selectManifest(entries, p(wanted));
    expect(chosen).toBe(index === undefined ? undefined : entries[index]);
    // Deterministic: the same answer every time.
    expect(selectManifest(entries, p(wanted))).toBe(chosen);
  });
});
