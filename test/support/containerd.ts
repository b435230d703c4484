import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BIN, run, scratch, succeeded, type RunOptions } from "./clients";
import { Daemon, removeTree } from "./daemon";
import type { Result } from "./skopeo";

/**
 * Debian's containerd, started by a test with a config of its own: root, state, sockets and the opt plugin's
 * folder in a temp dir, the CRI plugin and the snapshotters that probe the host (aufs, btrfs, zfs,
 * devmapper) off, and content not shared between namespaces — so a pull in a fresh `-n` namespace fetches
 * every blob again. Driven with Debian's `ctr`, unpacking into the native snapshotter.
 */
export class Containerd {
  readonly dir = scratch("containerd-e2e");
  readonly socket = path.join(this.dir, "containerd.sock");
  private readonly daemon: Daemon;

  constructor() {
    const config = path.join(this.dir, "config.toml");
    writeFileSync(
      config,
      [
        "version = 2",
        `root = "${this.dir}/root"`,
        `state = "${this.dir}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
        "[grpc]",
        `  address = "${this.socket}"`,
        "[ttrpc]",
        `  address = "${this.socket}.ttrpc"`,
        "[debug]",
        `  address = "${this.dir}/debug.sock"`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = "${this.dir}/opt"`,
        '[plugins."io.containerd.metadata.v1.bolt"]',
        '  content_sharing_policy = "isolated"',
      ].join("\n"),
    );
    this.daemon = new Daemon(BIN.containerd, ["--config", config], path.join(this.dir, "containerd.log"));
  }

  async start(): Promise<void> {
    await this.daemon.start(async () => (await this.ctr("default", ["version"])).code === 0);
  }

  /** `ctr --address <socket> -n <namespace> <args>`; never throws. */
  ctr(namespace: string, args: string[], opts: RunOptions = {}): Promise<Result> {
    const env = { PATH: process.env.PATH, HOME: this.dir, CONTAINERD_SNAPSHOTTER: "native" };
    return run(BIN.ctr, ["--address", this.socket, "-n", namespace, ...args], { env, ...opts });
  }

  /** `ctr`, expecting success; returns stdout. */
  async mustCtr(namespace: string, args: string[]): Promise<string> {
    return succeeded(await this.ctr(namespace, args), `ctr -n ${namespace} ${args.join(" ")}`);
  }

  /** `images ls` of a namespace: reference → target digest. */
  async images(namespace: string): Promise<Map<string, string>> {
    const out = await this.mustCtr(namespace, ["images", "ls"]);
    return new Map(out.trim().split("\n").slice(1).map((l) => l.split(/\s+/)).map((c) => [c[0]!, c[2]!]));
  }

  /** The digests in a namespace's content store. */
  async content(namespace: string): Promise<Set<string>> {
    return new Set((await this.mustCtr(namespace, ["content", "ls", "-q"])).trim().split("\n").filter(Boolean));
  }

  /** Writes `<dir>/certs.d/<host>/hosts.toml` and returns the `--hosts-dir` folder. */
  hostsToml(host: string, lines: string[]): string {
    const certs = path.join(this.dir, "certs.d");
    mkdirSync(path.join(certs, host), { recursive: true });
    writeFileSync(path.join(certs, host, "hosts.toml"), `${lines.join("\n")}\n`);
    return certs;
  }

  /** Stops containerd by PID and removes its folder. */
  async dispose(): Promise<void> {
    await this.daemon.stop();
    removeTree(this.dir);
  }
}

export interface DumpedRequest {
  method: string;
  /** path and query, as sent */
  target: string;
  host: string;
}

/**
 * The requests in `ctr --http-dump` output (logged one header a line; a response body may run into the next
 * request line, so lines are not trusted).
 */
export function dumpedRequests(output: string): DumpedRequest[] {
  const found: DumpedRequest[] = [];
  for (const m of output.matchAll(/(GET|HEAD|POST|PUT|PATCH|DELETE) (\/\S*) HTTP\/1\.1"|msg="Host: ([^"]+)"/g)) {
    if (m[1]) found.push({ method: m[1], target: m[2]!, host: "" });
    else if (found.length > 0 && found[found.length - 1]!.host === "") found[found.length - 1]!.host = m[3]!;
  }
  return found;
}
