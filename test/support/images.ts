import { readFileSync } from "node:fs";
import path from "node:path";
import { OciLayout, type Descriptor } from "./oci-layout";
import { ok } from "./skopeo";

/**
 * The two test images every client test starts from, written offline as one OCI layout: `single` (one
 * linux/amd64 image, two layers) and `multi` (an index over linux/amd64 and linux/arm64/v8), with contents
 * unique to `label` so no two test files share a digest.
 */
export interface TestImages {
  layout: OciLayout;
  single: Descriptor;
  multi: Descriptor;
  /** The index's images by architecture ("amd64", "arm64"). */
  arch: Map<string, Descriptor>;
}

export function testImages(dir: string, label: string): TestImages {
  const layout = new OciLayout(dir);
  const single = layout.image({ layers: [layout.layer("hello.txt", `${label}: hello\n`), layout.layer("b.txt", `${label}: second`)] });
  layout.tag(single, "single");
  const arch = new Map<string, Descriptor>();
  for (const [architecture, variant] of [["amd64", undefined], ["arm64", "v8"]] as const) {
    const layers = [layout.layer("arch.txt", `${label}: built for ${architecture}\n`)];
    arch.set(architecture, layout.image({ architecture, ...(variant ? { variant } : {}), layers }));
  }
  const multi = layout.index([...arch.values()]);
  layout.tag(multi, "multi");
  return { layout, single, multi, arch };
}

/** The digests an image manifest of the layout names: config first, then its layers. */
export function blobsOf(images: TestImages, manifest: Descriptor): string[] {
  const m = JSON.parse(readFileSync(path.join(images.layout.blobs, manifest.digest.slice(7)), "utf8")) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  return [m.config.digest, ...m.layers.map((l) => l.digest)];
}

/**
 * Pushes `single` and `multi` (all platforms) byte for byte with skopeo to `<host>/<repo>/single:1` and
 * `<host>/<repo>/multi:1` (for a registry with token auth, `creds`).
 */
export async function seed(images: TestImages, host: string, repo: string, creds?: string): Promise<void> {
  const auth = creds ? ["--dest-creds", creds] : [];
  const dir = images.layout.dir;
  await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", ...auth, `oci:${dir}:single`, `docker://${host}/${repo}/single:1`]);
  await ok(["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", ...auth, `oci:${dir}:multi`, `docker://${host}/${repo}/multi:1`]);
}
