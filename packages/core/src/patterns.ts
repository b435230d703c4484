import { isRepositoryName } from "./reference";

/**
 * Patterns that name repositories and tags in rules (robot accounts, immutable tags, retention). A repository
 * pattern is `*` (every repository), a prefix glob `org/*` (every repository below `org/`, at any depth, not `org`
 * itself), or an exact repository name. A tag pattern is a glob over the tag: `*` any run of characters, `?` one
 * character, everything else literal (`v*`, `release-?.*`, `latest`).
 */

/** True for `*`, `<repository-name>/*`, or a repository name. */
export function isRepositoryPattern(pattern: string): boolean {
  if (typeof pattern !== "string") return false;
  if (pattern === "*") return true;
  if (pattern.endsWith("/*")) return isRepositoryName(pattern.slice(0, -2));
  return isRepositoryName(pattern);
}

/** True if repository `name` is matched by `pattern` (`*`, prefix glob `org/*`, or exact). */
export function matchesRepositoryPattern(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("/*")) return name.startsWith(pattern.slice(0, -1)) && name.length > pattern.length - 1;
  return pattern === name;
}

/** Tag characters (distribution's tag grammar) plus the glob's `*` and `?`, 1 to 128 characters. */
const TAG_PATTERN = /^[\w*?][\w.*?-]{0,127}$/;

/** True for a tag glob: tag characters, `*` and `?`, at most 128 characters. */
export function isTagPattern(pattern: string): boolean {
  return typeof pattern === "string" && TAG_PATTERN.test(pattern);
}

/** True if `tag` is matched by the glob `pattern` (`*` any run, `?` one character, the rest literal). */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\-]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(tag);
}

/** cosign's tag-scheme tags for a digest's signature, attestation and SBOM (`sha256-<hex>.sig|.att|.sbom`). */
const COSIGN_TAG = /^sha256-([0-9a-f]{64})\.(?:sig|att|sbom)$/;

/**
 * The digest a cosign tag-scheme tag belongs to (`sha256-<hex>.sig` → `sha256:<hex>`), or null for any other tag:
 * such tags follow their subject (garbage collection, retention), and rules cover them only by name.
 */
export function cosignSubject(tag: string): string | null {
  const hex = COSIGN_TAG.exec(tag)?.[1];
  return hex ? `sha256:${hex}` : null;
}

/**
 * True if a tag rule with the glob `pattern` covers `tag`. cosign's signature, attestation and SBOM tags are
 * covered only by a pattern that names them (starts with `sha256-`), so signing an image under a rule like `*`
 * still works.
 */
export function tagRuleCovers(pattern: string, tag: string): boolean {
  if (cosignSubject(tag) && !pattern.startsWith("sha256-")) return false;
  return matchesTagPattern(pattern, tag);
}
