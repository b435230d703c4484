// The `replica` of `pnpm start` (issue 11 §1): a second instance of the registry worker (the same bundle) with its
// own name, R2 bucket, KV namespace and Durable Object state, token auth through the same auth service (the auth
// worker issues tokens for one service, "edge-registry", which both instances accept), and no replication of its
// own. The primary copies `replicated/*` to it with a robot of the auth service that may push only there.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The replica's worker: registry's options with its own storage and no queue. */
export function replicaOptions(registryOptions) {
  return {
    ...registryOptions,
    name: "edge-registry-replica",
    r2Buckets: { REGISTRY_BUCKET: { id: "edge-registry-replica" } },
    kvNamespaces: { EDGE_INDEX: { id: "edge-registry-replica-edge-index" } },
    // One runtime, one caches.default: the replica keeps its edge entries apart from the primary's.
    bindings: { ...registryOptions.bindings, EDGE_CACHE_NAMESPACE: "edge-registry-replica" },
    queueProducers: {},
    queueConsumers: {},
  };
}

/** The rule the primary gets: `replicated/*` to the replica, with the robot's credentials in REPLICA_CREDENTIALS. */
export const REPLICA_RULE = { repository: "replicated/*", credentials: "REPLICA_CREDENTIALS" };

/**
 * The replica's robot (push, pull and delete on `replicated/*`): made through the auth admin API when the state
 * directory has none, its secret kept in `replica-robot.json`. Returns "robot$replica:<secret>" and whether it is new.
 */
export async function replicaRobot(stateDir, authUrl, adminToken) {
  const file = path.join(stateDir, "replica-robot.json");
  if (existsSync(file)) return { credentials: JSON.parse(readFileSync(file, "utf8")).credentials, made: false };
  const admin = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  await fetch(`${authUrl}/admin/robots/replica`, { method: "DELETE", headers: admin });
  const res = await fetch(`${authUrl}/admin/robots`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({
      name: "replica",
      description: "pnpm start: the primary registry's replication to the replica",
      rules: [{ repository: REPLICA_RULE.repository, actions: ["pull", "push", "delete"] }],
    }),
  });
  if (res.status !== 201) throw new Error(`creating the replica robot: ${res.status} ${await res.text()}`);
  const robot = await res.json();
  const credentials = `${robot.name}:${robot.secret}`;
  writeFileSync(file, JSON.stringify({ credentials }), { mode: 0o600 });
  return { credentials, made: true };
}

/** The credentials kept from an earlier start, if any (given to the primary when Miniflare starts). */
export function keptReplicaCredentials(stateDir) {
  const file = path.join(stateDir, "replica-robot.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).credentials : undefined;
}

/** The primary's rule to the replica, added through the registry's admin API unless one exists. Returns its id. */
export async function replicaRule(registryUrl, replicaUrl, adminToken) {
  const headers = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  const listed = await fetch(`${registryUrl}/admin/replication`, { headers });
  if (!listed.ok) throw new Error(`listing replication rules: ${listed.status} ${await listed.text()}`);
  const { rules } = await listed.json();
  const same = rules.find((r) => r.repository === REPLICA_RULE.repository && r.target.url === replicaUrl);
  if (same) return same.id;
  const res = await fetch(`${registryUrl}/admin/replication`, {
    method: "POST",
    headers,
    body: JSON.stringify({ repository: REPLICA_RULE.repository, target: { url: replicaUrl, credentials: REPLICA_RULE.credentials } }),
  });
  if (res.status !== 201) throw new Error(`adding the replica rule: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}
