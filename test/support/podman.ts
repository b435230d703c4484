import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BIN, must, run, scratch, type RunOptions } from "./clients";
import type { Result } from "./skopeo";

/**
 * Debian's podman and buildah in a sandbox of their own: storage (vfs), run root, temp files, events log,
 * network config, registries.conf, policy.json and the auth file all in one temp dir, pointed at by flags and
 * environment (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, REGISTRY_AUTH_FILE,
 * HOME, XDG_*), so nothing reads the host's configuration or writes the host's storage. No container runs.
 *
 * One thing stays outside: containers/image 5.23 keeps its blob-info cache in /var/lib/containers/cache when
 * run as root, with no setting to move it (skopeo does the same).
 */
export class ContainersSandbox {
  readonly dir = scratch("podman-e2e");
  /** The auth file `podman login` writes and every command reads (REGISTRY_AUTH_FILE). */
  readonly authFile = path.join(this.dir, "auth.json");
  private readonly env: NodeJS.ProcessEnv;

  constructor() {
    const d = this.dir;
    const home = path.join(d, "home");
    for (const sub of ["home/.config/containers", "tmp", "xdg"]) mkdirSync(path.join(d, sub), { recursive: true });
    const containersConf = path.join(d, "containers.conf");
    writeFileSync(
      containersConf,
      [
        "[engine]",
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${d}/events.log"`,
        `tmp_dir = "${d}/tmp"`,
        `static_dir = "${d}/storage/libpod"`,
        `volume_path = "${d}/storage/volumes"`,
        "[network]",
        // As root, netavark makes /run/containers/networks whatever the config dir; CNI keeps to network_config_dir.
        'network_backend = "cni"',
        `network_config_dir = "${d}/networks"`,
      ].join("\n"),
    );
    const storageConf = path.join(d, "storage.conf");
    writeFileSync(storageConf, ["[storage]", 'driver = "vfs"', `graphroot = "${d}/storage"`, `runroot = "${d}/run"`].join("\n"));
    const registriesConf = path.join(d, "registries.conf");
    writeFileSync(registriesConf, "unqualified-search-registries = []\n");
    // containers/image reads $HOME/.config/containers/policy.json before /etc/containers/policy.json.
    writeFileSync(path.join(home, ".config/containers/policy.json"), JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    // podman refuses a REGISTRY_AUTH_FILE that does not exist.
    writeFileSync(this.authFile, "{}");
    this.env = {
      PATH: process.env.PATH,
      HOME: home,
      TMPDIR: path.join(d, "tmp"),
      XDG_RUNTIME_DIR: path.join(d, "xdg"),
      XDG_CONFIG_HOME: path.join(home, ".config"),
      XDG_DATA_HOME: path.join(home, ".local/share"),
      CONTAINERS_CONF: containersConf,
      CONTAINERS_STORAGE_CONF: storageConf,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      REGISTRY_AUTH_FILE: this.authFile,
    };
  }

  /** The global flags: a store of each tool's own under the sandbox (podman's also cgroupfs and a file events log). */
  private argv(tool: "podman" | "buildah", args: string[]): string[] {
    const store = ["--storage-driver", "vfs", "--root", path.join(this.dir, tool, "storage"), "--runroot", path.join(this.dir, tool, "run")];
    const extra = tool === "podman" ? ["--cgroup-manager", "cgroupfs", "--events-backend", "file"] : [];
    return [...store, ...extra, ...args];
  }

  /** `podman --storage-driver vfs --root … --runroot … --cgroup-manager cgroupfs --events-backend file <args>` */
  podman(args: string[], opts: RunOptions = {}): Promise<Result> {
    return run(BIN.podman, this.argv("podman", args), { env: this.env, ...opts });
  }

  /** `buildah --storage-driver vfs --root … --runroot … <args>` */
  buildah(args: string[], opts: RunOptions = {}): Promise<Result> {
    return run(BIN.buildah, this.argv("buildah", args), { env: this.env, ...opts });
  }

  /** `podman`, expecting success; returns stdout. */
  mustPodman(args: string[], opts: RunOptions = {}): Promise<string> {
    return must(BIN.podman, this.argv("podman", args), { env: this.env, ...opts });
  }

  /** `buildah`, expecting success; returns stdout. */
  mustBuildah(args: string[]): Promise<string> {
    return must(BIN.buildah, this.argv("buildah", args), { env: this.env });
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
