// Pushing a source (sources.mjs) to `HOST/REPO[:TAG]`: every blob in chunks the registry takes (upload.mjs), then
// the manifests, children before the index that names them, the tag last. The module `pnpm push` runs (cli.mjs)
// and that other tools import.
import { Registry, parseDestination } from "./registry.mjs";
import { openSource } from "./sources.mjs";
import { stateDir as defaultStateDir } from "./state.mjs";
import { pushBlob } from "./upload.mjs";

/**
 * @typedef {{
 *   creds?: string, plainHttp?: boolean, chunkSize?: number, stateDir?: string, retries?: number,
 *   progress?: import("./progress.mjs").Progress,
 * }} PushOptions  creds: `user:password`; chunkSize: bytes per PATCH (default: the registry's OCI-Chunk-Max-Length);
 *   stateDir: where unfinished uploads are remembered (default $XDG_CACHE_HOME/edge-registry-push)
 * @typedef {{
 *   digest: string, reference: string, mediaType?: string, blobs: import("./upload.mjs").BlobResult[],
 *   bytesSent: number, bytesSkipped: number, bytesResumed: number,
 * }} PushResult  digest: the pushed manifest's (or, for a blob source, the blob's)
 */

/**
 * Pushes `source` (`oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`, `blob:FILE`) to `destination`. The tag is the
 * destination's, else the source's; without either the manifest is pushed by digest only.
 * @param {string} source
 * @param {string} destination
 * @param {PushOptions} [options]
 * @returns {Promise<PushResult>}
 * @throws RegistryError (the registry's own message) or Error (a source that cannot be read, no connection)
 */
export async function push(source, destination, options = {}) {
  const dest = parseDestination(destination);
  const image = await openSource(source);
  const registry = new Registry({ host: dest.host, repository: dest.repository, creds: options.creds, plainHttp: options.plainHttp });
  await registry.connect();
  const stateDir = defaultStateDir(options.stateDir);
  const blobs = [];
  for (const [i, blob] of image.blobs.entries()) {
    const progress = options.progress?.blob(blob.digest, blob.size, i + 1, image.blobs.length);
    blobs.push(await pushBlob(registry, blob, { chunkSize: options.chunkSize, stateDir, retries: options.retries, progress }));
  }
  const totals = {
    bytesSent: blobs.reduce((n, b) => n + b.sent, 0),
    bytesSkipped: blobs.reduce((n, b) => n + b.skipped, 0),
    bytesResumed: blobs.reduce((n, b) => n + b.resumed, 0),
  };
  if (image.kind === "blob") {
    const digest = image.blobs[0].digest;
    return { digest, reference: `${dest.host}/${dest.repository}@${digest}`, blobs, ...totals };
  }
  const tag = dest.tag ?? image.tag;
  const top = image.manifests.at(-1);
  for (const manifest of image.manifests) {
    const reference = manifest === top && tag ? tag : manifest.digest;
    const res = await registry.ok("PUT", `manifests/${reference}`, [201], {
      headers: { "Content-Type": manifest.mediaType },
      body: manifest.bytes,
    });
    const stored = res.headers.get("Docker-Content-Digest");
    if (stored && stored !== manifest.digest) throw new Error(`the registry stored manifest ${stored}, expected ${manifest.digest}`);
    options.progress?.line(`manifest ${manifest.digest} → ${dest.repository}:${reference}`);
  }
  const reference = `${dest.host}/${dest.repository}${tag ? `:${tag}` : ""}@${top.digest}`;
  return { digest: top.digest, mediaType: top.mediaType, reference, blobs, ...totals };
}
