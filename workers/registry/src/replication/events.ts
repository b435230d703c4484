import { cosignSubject, isDigest } from "@registry/core";
import type { RouteMiddleware } from "@registry/api";
import type { ReplicationRule, ReplicationStore } from "@registry/storage";
import { ruleCovers, type ReplicationMessage } from "./rules";

/**
 * The push trigger of replication (issue 11 §1): a manifest PUT or DELETE that the /v2 API answered 2xx sends one
 * message per matching rule to the replication queue, and returns. The push waits for the queue's send (a few
 * milliseconds), never for the copy; a failed send is logged and loses only that event (a scheduled run catches up).
 */

/** The rules, as this isolate last read them: at most `ttlMs` old (a rule added is seen by pushes within it). */
export class RuleCache {
  private rules: Promise<ReplicationRule[]> | undefined;
  private readAt = 0;

  constructor(
    private readonly store: Pick<ReplicationStore, "rules">,
    private readonly ttlMs = 5000,
  ) {}

  get(): Promise<ReplicationRule[]> {
    if (!this.rules || Date.now() - this.readAt > this.ttlMs) {
      this.readAt = Date.now();
      this.rules = this.store.rules().catch((e: unknown) => {
        this.readAt = 0;
        throw e;
      });
    }
    return this.rules;
  }
}

/** A manifest change the /v2 API committed. */
export interface ManifestEvent {
  op: "put" | "delete";
  repository: string;
  /** The tag or digest in the request's path. */
  reference: string;
  /** The manifest's digest (Docker-Content-Digest), when the answer named it. */
  digest: string | null;
  /** The manifest's subject (OCI-Subject), for a referrer. */
  subject: string | null;
}

/** What the queue needs of a producer binding. */
export interface MessageSender {
  sendBatch(messages: Iterable<MessageSendRequest<ReplicationMessage>>): Promise<unknown>;
}

/**
 * The messages an event makes: a tag the rule's glob matches is copied; a referrer (OCI `subject`, or a cosign
 * `sha256-<hex>.sig/.att/.sbom` tag) copies its subject's referrer tree for rules that take referrers; deletions
 * only for rules that replicate them. A manifest pushed by digest with no subject (an index's child) is copied
 * with the tag that names its parent.
 */
export function messagesFor(rules: readonly ReplicationRule[], event: ManifestEvent, now = new Date()): ReplicationMessage[] {
  const base = { repository: event.repository, trigger: "push" as const, queued: now.toISOString() };
  const message = (rule: ReplicationRule, m: Pick<ReplicationMessage, "op" | "reference"> & { referrerPush?: boolean }): ReplicationMessage => ({
    id: crypto.randomUUID(),
    rule: rule.id,
    ...base,
    ...m,
  });
  const subject = event.op === "put" ? (cosignSubject(event.reference) ?? event.subject) : null;
  const out: ReplicationMessage[] = [];
  for (const rule of rules) {
    if (!ruleCovers(rule, event.repository)) continue;
    if (event.op === "delete") {
      const isCosignTag = cosignSubject(event.reference) !== null;
      const covered = isCosignTag ? rule.referrers : ruleCovers(rule, event.repository, event.reference);
      if (rule.deletions && covered) out.push(message(rule, { op: "delete", reference: event.reference }));
    } else if (subject) {
      if (rule.referrers) out.push(message(rule, { op: "copy", reference: subject, referrerPush: true }));
    } else if (!isDigest(event.reference) && ruleCovers(rule, event.repository, event.reference)) {
      out.push(message(rule, { op: "copy", reference: event.reference }));
    }
  }
  return out;
}

/** The route middleware: after a 2xx manifest PUT or DELETE, queue the matching rules' messages. */
export function emitReplicationEvents(rules: RuleCache, queue: MessageSender): RouteMiddleware {
  return async ({ route, request, params }, next) => {
    const response = await next();
    if (!route.path.endsWith("/manifests/:reference") || (request.method !== "PUT" && request.method !== "DELETE")) return response;
    if (response.status < 200 || response.status > 299) return response;
    const event: ManifestEvent = {
      op: request.method === "PUT" ? "put" : "delete",
      repository: params.name ?? "",
      reference: params.reference ?? "",
      digest: response.headers.get("Docker-Content-Digest"),
      subject: response.headers.get("OCI-Subject"),
    };
    try {
      const messages = messagesFor(await rules.get(), event);
      if (messages.length > 0) await queue.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    } catch (e) {
      console.warn(JSON.stringify({ event: "replication-event-lost", ...event, error: String(e) }));
    }
    return response;
  };
}
