import { existsSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BIN, must, run, scratch, type RunOptions } from "./clients";
import { Daemon, removeTree } from "./daemon";
import type { Result } from "./skopeo";

/**
 * Debian's dockerd (docker.io 20.10), started by a test with a daemon.json of its own: data-root, exec-root,
 * pidfile, key file and socket in a temp dir, vfs storage, no iptables and no bridge, the test's containerd,
 * loopback registries insecure. Driven with Debian's docker CLI, whose config (login credentials) also lives
 * in the temp dir. No container is run.
 */

/** dockerd 20.10 puts its plugin sockets in /run/docker/plugins whatever exec-root says. */
const PLUGIN_DIRS = ["/run/docker/plugins", "/run/docker"];

export class Dockerd {
  readonly dir = scratch("dockerd-e2e");
  readonly socket = path.join(this.dir, "docker.sock");
  /** The CLI's config folder (`--config`): `docker login` writes config.json here. */
  readonly config = path.join(this.dir, "cli");
  private readonly daemon: Daemon;
  private readonly madePluginDirs = !existsSync(PLUGIN_DIRS[1]!);

  /** `containerd`: the socket of a running containerd; `mirrors`: registry-mirrors. */
  constructor(opts: { containerd: string; mirrors?: string[] }) {
    const file = path.join(this.dir, "daemon.json");
    writeFileSync(
      file,
      JSON.stringify({
        "data-root": path.join(this.dir, "data"),
        "exec-root": path.join(this.dir, "exec"),
        pidfile: path.join(this.dir, "docker.pid"),
        "deprecated-key-path": path.join(this.dir, "key.json"),
        hosts: [`unix://${this.socket}`],
        "storage-driver": "vfs",
        iptables: false,
        ip6tables: false,
        bridge: "none",
        containerd: opts.containerd,
        "insecure-registries": ["127.0.0.0/8"],
        "registry-mirrors": opts.mirrors ?? [],
      }),
    );
    this.daemon = new Daemon(BIN.dockerd, ["--config-file", file], path.join(this.dir, "dockerd.log"));
  }

  async start(): Promise<void> {
    await this.daemon.start(async () => (await this.docker(["version", "--format", "{{.Server.Version}}"])).code === 0);
  }

  /** The command line and options of `docker --config <dir>/cli -H unix://<socket> <args>`. */
  private cli(args: string[], opts: RunOptions): [string, string[], RunOptions] {
    const env = { PATH: process.env.PATH, HOME: this.dir, DOCKER_CONFIG: this.config };
    return [BIN.docker, ["--config", this.config, "-H", `unix://${this.socket}`, ...args], { env, ...opts }];
  }

  /** Debian's docker CLI against this daemon; never throws. */
  docker(args: string[], opts: RunOptions = {}): Promise<Result> {
    return run(...this.cli(args, opts));
  }

  /** `docker`, expecting success; returns stdout. */
  mustDocker(args: string[], opts: RunOptions = {}): Promise<string> {
    return must(...this.cli(args, opts));
  }

  /** The daemon's log so far (dockerd logs each registry it tries). */
  log(): string {
    return this.daemon.tail(Number.MAX_SAFE_INTEGER);
  }

  /** Stops dockerd by PID, removes its folder, and the plugin folders if it made them (and they are empty). */
  async dispose(): Promise<void> {
    await this.daemon.stop();
    removeTree(this.dir);
    if (!this.madePluginDirs) return;
    for (const d of PLUGIN_DIRS) {
      try {
        rmdirSync(d);
      } catch {
        break; // not empty: someone else's dockerd uses it
      }
    }
  }
}
