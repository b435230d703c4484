import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createGzip, gzipSync } from "node:zlib";

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

const sha256 = (b: Buffer | string) => "sha256:" + createHash("sha256").update(b).digest("hex");

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
    const tmp = path.join(this.blobs, "tmp-big");
    const tarHash = createHash("sha256");
    const gzHash = createHash("sha256");
    let gzSize = 0;
    const gzip = createGzip({ level: 0, chunkSize: 1024 * 1024 });
    const out = createWriteStream(tmp);
    gzip.on("data", (b: Buffer) => {
      gzHash.update(b);
      gzSize += b.byteLength;
    });
    gzip.pipe(out);
    const finished = new Promise<void>((resolve, reject) => {
      out.on("finish", resolve);
      out.on("error", reject);
    });
    const write = (b: Buffer) =>
      new Promise<void>((resolve, reject) => {
        tarHash.update(b);
        gzip.write(b, (e) => (e ? reject(e) : resolve()));
      });
    await write(tarHeader("big.bin", size));
    const chunk = 4 * 1024 * 1024;
    const seed = randomBytes(chunk);
    for (let done = 0; done < size; done += chunk) {
      const n = Math.min(chunk, size - done);
      seed.writeUInt32LE(done / chunk, 0); // every chunk differs
      await write(Buffer.from(seed.subarray(0, n)));
    }
    await write(Buffer.alloc(((512 - (size % 512)) % 512) + 1024));
    gzip.end();
    await finished;
    const digest = "sha256:" + gzHash.digest("hex");
    renameSync(tmp, path.join(this.blobs, digest.slice(7)));
    return { desc: { mediaType: MT.layerGzip, digest, size: gzSize }, diffId: "sha256:" + tarHash.digest("hex") };
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
  return "sha256:" + hash.digest("hex");
}

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(size.toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.write("        ", 148);
  h.write("0", 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

function tarOf(name: string, content: Buffer): Buffer {
  const pad = (512 - (content.byteLength % 512)) % 512;
  return Buffer.concat([tarHeader(name, content.byteLength), content, Buffer.alloc(pad + 1024)]);
}
