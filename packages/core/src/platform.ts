/**
 * Platforms (`linux/arm64`, `windows/amd64`): parsing the specifier strings users type, normalising the many
 * spellings of an architecture, deciding whether an image can run on a platform, and picking the best entry of an
 * index. Semantics follow containerd's `platforms` package.
 * Spec: OCI image-spec "Image Index" § platform (values of GOOS / GOARCH, variant, os.version, os.features).
 */
import type { Descriptor, Platform } from "./descriptor";

/** One component of a specifier: letters, digits, `_` and `-` (containerd's `specifierRe`). */
const COMPONENT = /^[A-Za-z0-9_-]+$/;
/** A Windows-style OS version: dot-separated numbers. */
const OS_VERSION = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses a platform specifier: `os/architecture[/variant]`, with an optional OS version either containerd's way,
 * `os(version)/arch`, or as a suffix, `os/arch[/variant]:version` (`windows/amd64:10.0.17763`). Components are
 * returned as written (see `normalizePlatform`). Throws `Error` on anything else.
 * Spec: image-spec "Image Index" § platform; containerd `platforms.Parse`.
 */
export function parsePlatform(s: string): Platform {
  const fail = (): Error => new Error(`invalid platform specifier ${JSON.stringify(s)}: expected os/arch[/variant]`);
  if (typeof s !== "string") throw fail();
  let rest = s;
  let osVersion: string | undefined;
  const colon = rest.indexOf(":");
  if (colon !== -1) {
    osVersion = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  if (parts.length < 2 || parts.length > 3) throw fail();
  let os = parts[0]!;
  const paren = /^([^()]+)\(([^()]*)\)$/.exec(os);
  if (paren) {
    if (osVersion !== undefined) throw fail();
    os = paren[1]!;
    osVersion = paren[2]!;
  }
  const [, architecture = "", variant] = parts;
  if (![os, architecture, ...(variant === undefined ? [] : [variant])].every((p) => COMPONENT.test(p))) throw fail();
  if (osVersion !== undefined && !OS_VERSION.test(osVersion)) throw fail();
  const platform: Platform = { os, architecture };
  if (variant !== undefined) platform.variant = variant;
  if (osVersion !== undefined) platform["os.version"] = osVersion;
  return platform;
}

/**
 * `os[(os.version)]/architecture[/variant]` — containerd's `FormatAll` form, which `parsePlatform` reads back.
 * `os.features` and `features` are not part of a specifier and are left out.
 */
export function formatPlatform(p: Platform): string {
  const os = p["os.version"] ? `${p.os}(${p["os.version"]})` : p.os;
  return p.variant ? `${os}/${p.architecture}/${p.variant}` : `${os}/${p.architecture}`;
}

/**
 * Normalises spellings the way containerd does: OS lower-cased (`macos` → `darwin`); architecture lower-cased
 * with x86_64 / x86-64 / amd64 → `amd64` (variant `v1` dropped), aarch64 / arm64 → `arm64` (variant `v8`
 * dropped, so arm64 ≡ arm64/v8), armhf → `arm/v7`, armel → `arm/v6`, `arm` without variant → `arm/v7`,
 * numeric arm variants get a `v` (`7` → `v7`), i386 / x86 / 386 → `386`. Other fields are kept.
 * Spec: containerd `platforms.Normalize`.
 */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? "").toLowerCase();
  switch (architecture) {
    case "i386":
    case "x86":
    case "386":
      architecture = "386";
      variant = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8" || variant === "v8.0") variant = "";
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "") variant = "v7";
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  const normalized: Platform = { ...p, os, architecture };
  if (variant) normalized.variant = variant;
  else delete normalized.variant;
  return normalized;
}

/** Architectures whose numbered variants run the code of lower ones: arm v8 runs v7, v6, v5; amd64 v3 runs v2, v1. */
const VARIANT_LADDERS: Readonly<Record<string, readonly string[]>> = {
  arm: ["v5", "v6", "v7", "v8"],
  amd64: ["", "v2", "v3", "v4"],
};

/** Rank of `variant` on its architecture's ladder, or -1 when it has none or is not on it. */
function ladderRank(architecture: string, variant: string): number {
  return VARIANT_LADDERS[architecture]?.indexOf(variant) ?? -1;
}

/** Windows OS versions are `major.minor.build[.revision]`; images run only on hosts with the same build. */
function windowsBuild(version: string): string {
  return version.split(".").slice(0, 3).join(".");
}

/**
 * True if an image for `candidate` can run where `wanted` is asked for, after normalising both: same OS and
 * architecture; variant: an empty wanted variant accepts any, otherwise equal, or lower on the arm ladder
 * (wanted arm/v7 accepts v7, v6, v5 — not v8) or amd64 ladder (v4 > v3 > v2 > v1); `os.version`, when wanted sets
 * it, must be set on the candidate and equal (on Windows, equal major.minor.build); every wanted `features` and
 * `os.features` entry must be among the candidate's.
 * Spec: image-spec "Image Index" § platform; containerd `platforms.Only` / Windows matcher.
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  const wv = w.variant ?? "";
  const cv = c.variant ?? "";
  if (wv !== "" && wv !== cv) {
    const wr = ladderRank(w.architecture, wv);
    const cr = ladderRank(c.architecture, cv);
    if (wr === -1 || cr === -1 || cr > wr) return false;
  }
  const wantedVersion = w["os.version"];
  if (wantedVersion) {
    const candidateVersion = c["os.version"];
    if (!candidateVersion) return false;
    if (w.os === "windows" ? windowsBuild(wantedVersion) !== windowsBuild(candidateVersion) : wantedVersion !== candidateVersion) {
      return false;
    }
  }
  const subset = (need: string[] | undefined, have: string[] | undefined): boolean =>
    (need ?? []).every((f) => (have ?? []).includes(f));
  return subset(w.features, c.features) && subset(w["os.features"], c["os.features"]);
}

/** Windows revision (the fourth component of os.version) as a number, or -1 when there is none. */
function windowsRevision(version: string | undefined): number {
  const revision = (version ?? "").split(".")[3];
  return revision !== undefined && /^[0-9]+$/.test(revision) ? Number(revision) : -1;
}

/**
 * Scores a matching candidate, compared element by element; higher is better. In order of importance: the exact
 * variant; the highest variant on the ladder (for arm: v7 before v6 before v5); then, on Windows when an
 * os.version is wanted: the exact os.version, the closest revision, the newest revision.
 */
function score(w: Platform, c: Platform): number[] {
  const wv = w.variant ?? "";
  const cv = c.variant ?? "";
  const result = [wv === cv ? 1 : 0, wv === "" ? 0 : ladderRank(c.architecture, cv)];
  const wantedVersion = w["os.version"];
  if (w.os === "windows" && wantedVersion) {
    const wr = windowsRevision(wantedVersion);
    const cr = windowsRevision(c["os.version"]);
    result.push(c["os.version"] === wantedVersion ? 1 : 0, wr >= 0 && cr >= 0 ? -Math.abs(cr - wr) : 0, cr);
  }
  return result;
}

/** True if score `a` beats score `b` (lexicographic, strictly greater). */
function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return false;
}

/**
 * The best entry of an index for `wanted`: among descriptors with a `platform` that `platformMatches`, prefers the
 * exact variant, then the highest compatible variant (arm v7 > v6 > v5), then on Windows the closest `os.version`;
 * then the newest revision; ties go to the earlier entry. Returns undefined when none matches.
 * Spec: image-spec "Image Index" (clients pick a manifest by platform); containerd `platforms.Ordered`.
 */
export function selectManifest(descriptors: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  const w = normalizePlatform(wanted);
  let best: Descriptor | undefined;
  let bestScore: number[] | undefined;
  for (const d of descriptors) {
    if (!d.platform || !platformMatches(w, d.platform)) continue;
    const s = score(w, normalizePlatform(d.platform));
    if (!bestScore || better(s, bestScore)) {
      best = d;
      bestScore = s;
    }
  }
  return best;
}
