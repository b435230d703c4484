import { parseRepositoryName, type RepositoryName } from "@registry/core";
import type { MountSources } from "@registry/storage";
import type { Grant } from "./context";

/**
 * At most this many repositories are looked at for a mount without `from` (a token may name up to 256): past
 * them the client simply uploads the blob.
 */
export const MAX_MOUNT_SOURCES = 16;

/**
 * Where a cross-repository mount into `target` may take its blob from (spec §"Mounting a blob from another
 * repository"): `from` if the caller may pull it, else nowhere; without `from`, the target itself and the
 * repositories the caller's grant lets it pull (at most MAX_MOUNT_SOURCES), or any repository when access is not
 * restricted. Repositories the caller cannot pull are never candidates, so a mount reveals nothing about them.
 * Throws NAME_INVALID for a malformed `from`.
 */
export async function mountSources(from: string | null, target: RepositoryName, grant: Grant): Promise<MountSources> {
  if (from) {
    const source = parseRepositoryName(from);
    return (await grant.canPull(source)) ? [source] : [];
  }
  if (grant.pullable === "any") return "any";
  const others = grant.pullable.filter((r) => r !== target);
  return [target, ...new Set(others)].slice(0, MAX_MOUNT_SOURCES);
}
