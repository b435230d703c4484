/**
 * Media types the registry knows by name. The registry stores any blob whatever its media type; these are the
 * ones it must recognise: the four manifest types it parses, and the config and layer types clients commonly use.
 * Spec: OCI image-spec "Media Types"; Docker "Image Manifest V2, Schema 2".
 */

/** Well-known media types, by short name. */
export const MediaTypes = {
  /** OCI image manifest (image-spec "Image Manifest"). */
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  /** OCI image index (image-spec "Image Index"). */
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** Docker image manifest, schema 2. */
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** Docker manifest list (multi-platform), schema 2. */
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker schema 1 manifest (unsupported; recognised only to be refused clearly). */
  dockerManifestSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  /** Signed Docker schema 1 manifest (unsupported; recognised only to be refused clearly). */
  dockerManifestSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  /** OCI image configuration (image-spec "Image Configuration"). */
  ociConfig: "application/vnd.oci.image.config.v1+json",
  /** The empty descriptor's media type; its content is `{}` (image-spec "Guidance for an Empty Descriptor"). */
  ociEmpty: "application/vnd.oci.empty.v1+json",
  /** Docker image configuration. */
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  /** OCI layer, uncompressed tar. */
  ociLayerTar: "application/vnd.oci.image.layer.v1.tar",
  /** OCI layer, gzip-compressed tar. */
  ociLayerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** OCI layer, zstd-compressed tar. */
  ociLayerTarZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  /** OCI non-distributable layer, uncompressed tar (deprecated by image-spec 1.1). */
  ociLayerNondistributableTar: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  /** OCI non-distributable layer, gzip-compressed tar (deprecated by image-spec 1.1). */
  ociLayerNondistributableTarGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  /** OCI non-distributable layer, zstd-compressed tar (deprecated by image-spec 1.1). */
  ociLayerNondistributableTarZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  /** Docker layer, gzip-compressed tar. */
  dockerLayerTarGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** Docker foreign layer (e.g. Windows base layers), fetched from its `urls` rather than the registry. */
  dockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  /** Docker plugin configuration. */
  dockerPluginConfig: "application/vnd.docker.plugin.v1+json",
} as const;

/** The four manifest media types the registry accepts on `PUT /v2/<name>/manifests/<reference>`. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = Object.freeze([
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
]);

/**
 * True if `t` is one of the four manifest media types. Compares the bare media type: parameters (`; charset=…`)
 * are ignored and case does not matter, so a Content-Type header can be passed as is.
 * Spec: distribution-spec "Pushing manifests".
 */
export function isManifestMediaType(t: string): boolean {
  return typeof t === "string" && MANIFEST_MEDIA_TYPES.includes(bareMediaType(t));
}

/** `type/subtype` of a Content-Type value: parameters dropped, whitespace trimmed, lowercased. */
export function bareMediaType(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}
