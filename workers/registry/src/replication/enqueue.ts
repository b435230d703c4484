import { cosignSubject, type RepositoryName } from "@registry/core";
import type { ManifestReader, ReplicationRule, ReplicationTrigger } from "@registry/storage";
import type { MessageSender } from "./events";
import { ruleCovers, type ReplicationMessage } from "./rules";

/**
 * The scheduled and manual triggers of replication (issue 11 §1): every tag of every repository a rule covers is
 * queued, one message each. Repositories and tags are read a page at a time and messages sent 100 at a time (the
 * queue's batch limit), up to `limit` messages per call (a Worker invocation's subrequests are bounded); cosign's
 * `sha256-<hex>.sig/.att/.sbom` tags are left out, as they travel with their subjects' referrer trees.
 */

const PAGE = 1000;
const SEND_BATCH = 100;

/** What one call queued: messages, and whether `limit` cut it short. */
export interface EnqueueReport {
  queued: number;
  truncated: boolean;
}

/** Queues every covered tag of every repository the rules cover (a scheduled or a manual run of whole rules). */
export async function enqueueRules(
  rules: readonly ReplicationRule[],
  manifests: ManifestReader,
  queue: MessageSender,
  trigger: ReplicationTrigger,
  limit = 10_000,
): Promise<EnqueueReport> {
  let pending: ReplicationMessage[] = [];
  let queued = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await queue.sendBatch(pending.map((body) => ({ body, contentType: "json" as const })));
    queued += pending.length;
    pending = [];
  };
  for (const rule of rules) {
    for await (const repository of repositoriesOf(rule, manifests)) {
      for await (const tag of tagsOf(repository, manifests)) {
        if (cosignSubject(tag) || !ruleCovers(rule, repository, tag)) continue;
        if (queued + pending.length >= limit) {
          await flush();
          return { queued, truncated: true };
        }
        pending.push(messageOf(rule, repository, tag, trigger));
        if (pending.length >= SEND_BATCH) await flush();
      }
    }
  }
  await flush();
  return { queued, truncated: false };
}

/** One message: `reference` of `repository` by `rule`. */
export function messageOf(rule: ReplicationRule, repository: string, reference: string, trigger: ReplicationTrigger): ReplicationMessage {
  return { id: crypto.randomUUID(), rule: rule.id, op: "copy", repository, reference, trigger, queued: new Date().toISOString() };
}

/** `repo:tag` or `repo@sha256:…` → its parts; null when it is neither. */
export function splitReference(s: string): { repository: string; reference: string } | null {
  const at = s.indexOf("@");
  if (at > 0) return { repository: s.slice(0, at), reference: s.slice(at + 1) };
  const colon = s.lastIndexOf(":");
  if (colon <= 0 || s.indexOf("/", colon) >= 0) return null;
  return { repository: s.slice(0, colon), reference: s.slice(colon + 1) };
}

async function* repositoriesOf(rule: ReplicationRule, manifests: ManifestReader): AsyncGenerator<string> {
  if (rule.repository !== "*" && !rule.repository.endsWith("/*")) {
    yield rule.repository;
    return;
  }
  // The catalog is in lexical order: a prefix rule starts just before its prefix and stops past it.
  const prefix = rule.repository === "*" ? "" : rule.repository.slice(0, -1);
  let last: string | undefined = prefix === "" ? undefined : prefix.slice(0, -1);
  for (;;) {
    const page = await manifests.listRepositories(PAGE, last);
    for (const name of page.items) {
      if (prefix && name > prefix && !name.startsWith(prefix)) return;
      if (ruleCovers(rule, name)) yield name;
    }
    if (!page.more || page.items.length === 0) return;
    last = page.items[page.items.length - 1];
  }
}

async function* tagsOf(repository: string, manifests: ManifestReader): AsyncGenerator<string> {
  let last: string | undefined;
  for (;;) {
    const page = await manifests.listTags(repository as RepositoryName, PAGE, last);
    if (!page) return;
    yield* page.items;
    if (!page.more || page.items.length === 0) return;
    last = page.items[page.items.length - 1];
  }
}
