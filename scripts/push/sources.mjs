// What can be pushed, read into one shape — the blobs (files or members of a tarball, streamed when sent), the
// manifests in the order they must be pushed (children before the index that names them) and the tag:
//   oci:DIR[:TAG]            an OCI image layout (image-spec §"Image Layout"): index.json names the image or index
//   docker-archive:FILE[:REF] a `docker save` / `skopeo copy … docker-archive:` tarball (manifest.json, config, layer
//                            tars), pushed as a Docker v2 schema 2 manifest with the layers as they are in the archive
//   blob:FILE                one file as a blob
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { MEDIA_TYPES } from "./registry.mjs";
import { readMember, readTarIndex } from "./tar.mjs";

/**
 * @typedef {import("./upload.mjs").BlobSource} BlobSource
 * @typedef {{ digest: string, mediaType: string, bytes: Buffer }} ManifestSource
 * @typedef {{ kind: "image" | "blob", blobs: BlobSource[], manifests: ManifestSource[], tag?: string }} Source
 *   manifests: children first, the one to tag last
 */

const sha256 = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const INDEXES = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList];

/** sha256 of `size` bytes of `file` from `start`, streamed. */
export async function fileDigest(file, start = 0, size = statSync(file).size - start) {
  const hash = createHash("sha256");
  if (size > 0) {
    for await (const piece of createReadStream(file, { start, end: start + size - 1, highWaterMark: 1024 * 1024 })) hash.update(piece);
  }
  return `sha256:${hash.digest("hex")}`;
}

/**
 * `TRANSPORT:PATH[:REF]` → its parts; a last `:REF` counts only when it holds no `/` (paths may contain colons).
 * @param {string} text
 */
export function parseSource(text) {
  const m = /^(oci|docker-archive|blob):(.+)$/.exec(text);
  if (!m) throw new Error(`source ${JSON.stringify(text)}: expected oci:DIR[:TAG], docker-archive:FILE[:REF] or blob:FILE`);
  const [, transport, rest] = m;
  const colon = rest.lastIndexOf(":");
  const split = transport !== "blob" && colon > 0 && !rest.slice(colon + 1).includes("/") && !existsSync(rest);
  return { transport, path: split ? rest.slice(0, colon) : rest, ref: split ? rest.slice(colon + 1) : undefined };
}

/**
 * Reads a source (see the file comment). Blob digests of a layout are its file names; an archive's members and a
 * single blob are hashed here (one read, before anything is sent).
 * @param {string} text
 * @returns {Promise<Source>}
 */
export async function openSource(text) {
  const { transport, path: where, ref } = parseSource(text);
  if (!existsSync(where)) throw new Error(`${where}: no such ${transport === "oci" ? "directory" : "file"}`);
  if (transport === "oci") return ociLayout(where, ref);
  if (transport === "docker-archive") return dockerArchive(where, ref);
  const size = statSync(where).size;
  return { kind: "blob", blobs: [{ digest: await fileDigest(where), size, file: where }], manifests: [] };
}

/** An OCI layout: the manifest index.json tags `tag` (or its only one), with everything it references. */
function ociLayout(dir, tag) {
  const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8"));
  const entries = index.manifests ?? [];
  const tagOf = (d) => d.annotations?.["org.opencontainers.image.ref.name"];
  const chosen = tag === undefined ? entries : entries.filter((d) => tagOf(d) === tag);
  if (chosen.length !== 1) {
    const tags = entries.map(tagOf).filter(Boolean);
    const which = tag === undefined ? `${entries.length} images: name one` : `no image tagged ${JSON.stringify(tag)}`;
    throw new Error(`${dir}: ${which} (tags: ${tags.join(", ") || "none"}), e.g. oci:${dir}:${tags[0] ?? "TAG"}`);
  }
  const file = (digest) => {
    const [algorithm, hex] = digest.split(":");
    return path.join(dir, "blobs", algorithm, hex);
  };
  const blobs = new Map();
  const manifests = [];
  const walk = (desc) => {
    if (manifests.some((m) => m.digest === desc.digest)) return;
    const bytes = readExisting(file(desc.digest), desc);
    const body = JSON.parse(bytes.toString("utf8"));
    const mediaType = desc.mediaType ?? body.mediaType ?? (body.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
    if (INDEXES.includes(mediaType)) for (const child of body.manifests ?? []) walk(child);
    else {
      for (const d of [body.config, ...(body.layers ?? [])]) {
        if (!d || blobs.has(d.digest) || d.urls?.length) continue;
        const f = file(d.digest);
        if (!existsSync(f) || statSync(f).size !== d.size) throw new Error(`${dir}: blob ${d.digest} is missing or not ${d.size} bytes`);
        blobs.set(d.digest, { digest: d.digest, size: d.size, file: f });
      }
    }
    manifests.push({ digest: desc.digest, mediaType, bytes });
  };
  walk(chosen[0]);
  return { kind: "image", blobs: [...blobs.values()], manifests, tag: tag ?? tagOf(chosen[0]) };
}

function readExisting(file, desc) {
  if (!existsSync(file)) throw new Error(`manifest ${desc.digest} is not in the layout (${file})`);
  const bytes = readFileSync(file);
  if (sha256(bytes) !== desc.digest && desc.digest.startsWith("sha256:")) throw new Error(`${file} does not match its digest`);
  return bytes;
}

/**
 * A docker-archive tarball: the image of manifest.json whose RepoTags hold `ref` (or its only image), as a Docker
 * v2 schema 2 manifest over the config and the layers as they are in the archive (uncompressed tars, or gzip
 * ones when the archive holds those), each streamed from the tarball when sent.
 */
async function dockerArchive(file, ref) {
  const members = readTarIndex(file);
  const member = (name) => {
    const m = members.get(name.replace(/^\.\//, ""));
    if (!m) throw new Error(`${file}: ${name} is named in manifest.json but not in the archive`);
    return m;
  };
  const images = JSON.parse(readMember(file, member("manifest.json")).toString("utf8"));
  const chosen = ref === undefined ? images : images.filter((i) => (i.RepoTags ?? []).some((t) => t === ref || t.endsWith(`:${ref}`)));
  if (chosen.length !== 1) {
    const tags = images.flatMap((i) => i.RepoTags ?? []);
    throw new Error(`${file}: ${ref === undefined ? `${images.length} images: name one` : `no image tagged ${ref}`} (tags: ${tags.join(", ") || "none"})`);
  }
  const image = chosen[0];
  const configMember = member(image.Config);
  const configBytes = readMember(file, configMember);
  const config = { digest: sha256(configBytes), size: configMember.size, file, start: configMember.offset };
  const layers = [];
  for (const name of image.Layers) {
    const m = member(name);
    const magic = readMember(file, { offset: m.offset, size: Math.min(2, m.size) });
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
    const digest = await fileDigest(file, m.offset, m.size);
    layers.push({ blob: { digest, size: m.size, file, start: m.offset }, mediaType: gzip ? MEDIA_TYPES.dockerLayerGzip : MEDIA_TYPES.dockerLayerTar });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, size: config.size, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.blob.size, digest: l.blob.digest })),
    }),
  );
  const unique = new Map([config, ...layers.map((l) => l.blob)].map((b) => [b.digest, b]));
  const repoTag = image.RepoTags?.find((t) => ref === undefined || t === ref || t.endsWith(`:${ref}`));
  const tag = repoTag && /:([\w][\w.-]{0,127})$/.exec(repoTag)?.[1];
  return {
    kind: "image",
    blobs: [...unique.values()],
    manifests: [{ digest: sha256(manifest), mediaType: MEDIA_TYPES.dockerManifest, bytes: manifest }],
    tag: tag ?? undefined,
  };
}
