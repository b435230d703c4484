import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { tarOf, writeRandomLayer } from "./tar-layer.mjs";

/**
 * Writes OCI image layouts (image-spec §"Image Layout") by hand, offline: real tar+gzip layers, configs
 * with matching diff_ids, manifests and multi-platform indexes. Test images never come from a network.
 */

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export const MT = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerTar: "application/vnd.oci.image.layer.v1.tar",
} as const;

const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export class OciLayout {
  readonly blobs: string;
  private readonly entries: Descriptor[] = [];
  constructor(readonly dir: string) {
    this.blobs = path.join(dir, "blobs", "sha256");
    mkdirSync(this.blobs, { recursive: true });
    writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    this.flush();
  }

  /** Stores bytes as a blob; returns its descriptor. */
  blob(bytes: Buffer | string, mediaType: string): Descriptor {
    const buf = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
    const digest = sha256(buf);
    writeFileSync(path.join(this.blobs, digest.slice(7)), buf);
    return { mediaType, digest, size: buf.byteLength };
  }

  /** A gzip'd tar layer holding one file; returns the layer descriptor and its diff_id. */
  layer(fileName: string, content: Buffer | string): { desc: Descriptor; diffId: string } {
    const tar = tarOf(fileName, typeof content === "string" ? Buffer.from(content) : content);
    return { desc: this.blob(gzipSync(tar), MT.layerGzip), diffId: sha256(tar) };
  }

  /**
   * A tar+gzip layer holding one file of `size` random bytes, streamed to disk (for GiB-sized blobs). The gzip
   * uses stored blocks (level 0): cheap to write, and clients see an already compressed layer, so none of
   * them recompresses it on push.
   */
  async bigLayer(size: number): Promise<{ desc: Descriptor; diffId: string }> {
    const { digest, size: gzSize, diffId } = await writeRandomLayer(this.blobs, "big.bin", size);
    return { desc: { mediaType: MT.layerGzip, digest, size: gzSize }, diffId };
  }

  /** A runnable-looking image for one platform; returns its manifest descriptor. */
  image(opts: {
    os?: string;
    architecture?: string;
    variant?: string;
    layers: { desc: Descriptor; diffId: string }[];
    annotations?: Record<string, string>;
  }): Descriptor {
    const config = this.blob(
      JSON.stringify({
        architecture: opts.architecture ?? "amd64",
        os: opts.os ?? "linux",
        ...(opts.variant ? { variant: opts.variant } : {}),
        config: { Cmd: ["/bin/true"] },
        rootfs: { type: "layers", diff_ids: opts.layers.map((l) => l.diffId) },
      }),
      MT.config,
    );
    const manifest = this.blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.manifest,
        config,
        layers: opts.layers.map((l) => l.desc),
        ...(opts.annotations ? { annotations: opts.annotations } : {}),
      }),
      MT.manifest,
    );
    return {
      ...manifest,
      platform: {
        os: opts.os ?? "linux",
        architecture: opts.architecture ?? "amd64",
        ...(opts.variant ? { variant: opts.variant } : {}),
      },
    };
  }

  /** An image index over several manifests. */
  index(manifests: Descriptor[]): Descriptor {
    return this.blob(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests }), MT.index);
  }

  /** Names `desc` in index.json under `tag` (so `oci:<dir>:<tag>` finds it). */
  tag(desc: Descriptor, tag: string): void {
    const { platform: _p, ...plain } = desc;
    this.entries.push({ ...plain, annotations: { "org.opencontainers.image.ref.name": tag } });
    this.flush();
  }

  private flush(): void {
    writeFileSync(
      path.join(this.dir, "index.json"),
      JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: this.entries }),
    );
  }
}

/** Digest of a file on disk. */
export async function fileDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}
