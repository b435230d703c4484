/**
 * The copy engine (issue 11 §1 "What is copied", "Order and failure"): one reference of the source to a target,
 * with its whole tree — blobs, child manifests, then the manifest itself — and, when asked, its referrer tree
 * (OCI 1.1 referrers, nested, and cosign's `sha256-<hex>.sig|.att|.sbom` tags). Children go before parents and the
 * requested tag goes last, so the target never shows a tag whose content is incomplete; everything already on the
 * target is skipped, so a copy that failed half-way is completed by running it again.
 * Spec: distribution-spec "Push" (blobs before the manifests that need them, children before an index),
 * "Pushing Manifests with Subject", "Referrers Tag Schema".
 */
import { MANIFEST_MEDIA_TYPES, type Descriptor, isDigest, type Manifest, parseManifest, referencedBlobs } from "@registry/core";
import { copyBlob, DEFAULT_CHUNK_SIZE } from "./copy-blob";
import { hasReferrersApi, listInTagSchema } from "./tag-schema";
import { ReplicationError, TargetClient } from "./target-client";
import type { ReplicateReport, ReplicateRequest, SourceManifest } from "./types";

const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

/** cosign's tag-scheme suffixes: signature, attestation, SBOM. */
const COSIGN_SUFFIXES = ["sig", "att", "sbom"] as const;

/**
 * Copies `req.reference` (a tag or a digest) of `req.repository` to `req.target` (as `req.targetRepository`, by
 * default the same name) and returns what was done. Throws ReplicationError when the source lacks the reference or
 * one of its blobs or manifests, or when the target fails a step (the message names the step, the status and the
 * target's OCI error); a tag is pushed only after everything it points to.
 */
export async function replicate(req: ReplicateRequest): Promise<ReplicateReport> {
  const copy = new Copy(req);
  return copy.run();
}

class Copy {
  private readonly client: TargetClient;
  private readonly from: string;
  private readonly to: string;
  private readonly report: ReplicateReport = {
    manifests: 0,
    blobsCopied: 0,
    blobsSkipped: 0,
    blobsMounted: 0,
    bytes: 0,
    referrers: 0,
    tagSchema: false,
  };
  /** Manifests whose tree is on the target (this copy pushed it or found it there), by digest. */
  private readonly done = new Set<string>();
  /** Blobs dealt with in this copy, by digest. */
  private readonly blobs = new Set<string>();
  /** Manifests whose referrers were looked up (or are queued for it). */
  private readonly subjects: string[] = [];
  private readonly subjectsSeen = new Set<string>();
  /** Referrers pushed in this copy, and whether the target answered with OCI-Subject (it indexed the subject). */
  private readonly subjectAcknowledged = new Map<string, boolean>();
  private sourceTags?: Promise<Set<string>>;
  private referrersApi?: Promise<boolean>;

  constructor(private readonly req: ReplicateRequest) {
    this.client = new TargetClient(req.target, req.fetch);
    this.from = req.repository;
    this.to = req.targetRepository ?? req.repository;
  }

  async run(): Promise<ReplicateReport> {
    const root = await this.manifest(this.req.reference);
    if (this.req.referrers) await this.referrerTree();
    if (!isDigest(this.req.reference)) await this.tag(this.req.reference, root);
    return this.report;
  }

  /**
   * Copies a manifest by tag or digest with everything it needs (blobs, or children for an index), then pushes it
   * by digest — unless the target already holds it, whose blobs are then trusted to be there (a registry accepts
   * a manifest only with its blobs); an index's children are still visited for their referrers.
   */
  private async manifest(reference: string): Promise<SourceManifest> {
    const m = await this.req.source.manifest(this.from, reference);
    if (!m) throw new ReplicationError(`read manifest ${reference} of ${this.from}`, "the source does not have it");
    if (this.done.has(m.digest)) return m;
    this.queueSubject(m.digest);
    const present = await this.hasManifest(m.digest);
    let parsed: Manifest;
    try {
      parsed = parseManifest(m.bytes, m.mediaType);
    } catch (e) {
      throw new ReplicationError(`read manifest ${m.digest} of ${this.from}`, `the source's manifest is invalid: ${(e as Error).message}`, undefined, undefined, { cause: e });
    }
    const { blobs, manifests } = referencedBlobs(parsed);
    for (const child of manifests) await this.manifest(child.digest);
    if (!present) {
      for (const blob of blobs) await this.blob(blob);
      const res = await this.put(m.digest, m, `push manifest ${m.digest} to ${this.to}`);
      if (parsed.subject) this.subjectAcknowledged.set(m.digest, res.headers.has("OCI-Subject"));
      this.report.manifests++;
    }
    this.done.add(m.digest);
    return m;
  }

  private async blob(blob: Descriptor): Promise<void> {
    if (this.blobs.has(blob.digest)) return;
    const outcome = await copyBlob(
      { client: this.client, source: this.req.source, from: this.from, to: this.to, chunkSize: this.req.chunkSize ?? DEFAULT_CHUNK_SIZE },
      blob,
    );
    this.blobs.add(blob.digest);
    if (outcome.kind === "skipped") this.report.blobsSkipped++;
    else if (outcome.kind === "mounted") this.report.blobsMounted++;
    else {
      this.report.blobsCopied++;
      this.report.bytes += outcome.bytes;
    }
  }

  /**
   * The referrer tree of every manifest copied so far, breadth first: each subject's OCI 1.1 referrers and cosign
   * tags are copied after it, and become subjects in turn (a signature's signature, an SBOM's signature). On a
   * target without the referrers API, each subject's OCI referrers are then listed under its tag-schema tag.
   */
  private async referrerTree(): Promise<void> {
    for (let i = 0; i < this.subjects.length; i++) {
      const subject = this.subjects[i]!;
      const referrers = await this.req.source.referrers(this.from, subject);
      for (const referrer of referrers) {
        const before = this.report.manifests;
        await this.manifest(referrer.digest);
        if (this.report.manifests > before) this.report.referrers++;
      }
      if (referrers.length > 0 && (await this.needsTagSchema(subject, referrers))) {
        await listInTagSchema(this.client, this.to, subject, referrers);
        this.report.tagSchema = true;
      }
      await this.cosignTags(subject);
    }
  }

  /** cosign's `sha256-<hex>.sig|.att|.sbom` tags of `subject` on the source: their content, then the tag itself. */
  private async cosignTags(subject: string): Promise<void> {
    if (!subject.startsWith("sha256:")) return;
    this.sourceTags ??= this.req.source.tags(this.from).then((tags) => new Set(tags));
    const tags = await this.sourceTags;
    for (const suffix of COSIGN_SUFFIXES) {
      const tag = `sha256-${subject.slice("sha256:".length)}.${suffix}`;
      if (!tags.has(tag)) continue;
      const before = this.report.manifests;
      const m = await this.manifest(tag);
      if (this.report.manifests > before) this.report.referrers++;
      await this.tag(tag, m);
    }
  }

  /**
   * Whether `subject`'s referrers must be listed under the tag schema: yes when the target took one of them without
   * answering OCI-Subject (distribution-spec "Pushing Manifests with Subject"), no when it acknowledged all; when
   * they were all there already, whether the target lacks the referrers API.
   */
  private async needsTagSchema(subject: string, referrers: Descriptor[]): Promise<boolean> {
    const acknowledged = referrers.map((r) => this.subjectAcknowledged.get(r.digest));
    if (acknowledged.includes(false)) return true;
    if (acknowledged.every((a) => a === true)) return false;
    return !(await this.targetHasReferrersApi(subject));
  }

  /** Whether the target has the referrers API, asked once per copy. */
  private targetHasReferrersApi(subject: string): Promise<boolean> {
    this.referrersApi ??= hasReferrersApi(this.client, this.to, subject);
    return this.referrersApi;
  }

  private queueSubject(digest: string): void {
    if (this.subjectsSeen.has(digest)) return;
    this.subjectsSeen.add(digest);
    this.subjects.push(digest);
  }

  private async hasManifest(digest: string): Promise<boolean> {
    const res = await this.client.send({
      method: "HEAD",
      path: `/v2/${this.to}/manifests/${digest}`,
      scopes: [TargetClient.push(this.to)],
      headers: { Accept: ACCEPT },
      ok: [200, 404],
      step: `check manifest ${digest} in ${this.to}`,
    });
    await res.body?.cancel();
    return res.status === 200;
  }

  /** Points `tag` at `m` on the target, unless it already points there. Called only once `m`'s tree is there. */
  private async tag(tag: string, m: SourceManifest): Promise<void> {
    const res = await this.client.send({
      method: "HEAD",
      path: `/v2/${this.to}/manifests/${tag}`,
      scopes: [TargetClient.push(this.to)],
      headers: { Accept: ACCEPT },
      ok: [200, 404],
      step: `check tag ${tag} in ${this.to}`,
    });
    await res.body?.cancel();
    if (res.status === 200 && res.headers.get("Docker-Content-Digest") === m.digest) return;
    await this.put(tag, m, `push tag ${tag} (${m.digest}) to ${this.to}`);
  }

  private async put(reference: string, m: SourceManifest, step: string): Promise<Response> {
    const res = await this.client.send({
      method: "PUT",
      path: `/v2/${this.to}/manifests/${reference}`,
      scopes: [TargetClient.push(this.to)],
      headers: { "Content-Type": m.mediaType },
      body: async () => ({ body: m.bytes, length: m.bytes.length }),
      ok: [201],
      step,
    });
    await res.body?.cancel();
    return res;
  }
}
