import { rmSync } from "node:fs";
import path from "node:path";
import { makeRobot, scratch, type Robot } from "./clients";
import { Containerd } from "./containerd";
import { seed, testImages, type TestImages } from "./images";
import { startSystem, type RunningSystem } from "./system";
import { Distribution, freePort } from "./upstream";

/**
 * What every client test file starts from: the system as README command 1 starts it with token auth on and
 * anonymous pulls only for public/*, a robot made with the CLI, the test images pushed by skopeo to
 * `seed/single:1` and `seed/multi:1`, and — with `mirror` — Debian's docker-registry on loopback holding the
 * same images as `library/…`, the mirror's default upstream for docker.io (Docker Hub naming); with
 * `containerd`, a containerd of the file's own (for ctr, and under dockerd).
 *
 * Set up in beforeAll with `start()`, torn down in afterAll with `dispose()`, which also cleans up after a
 * start that failed halfway.
 */
export class ClientFixture {
  readonly work: string;
  readonly img: TestImages;
  sys!: RunningSystem;
  robot!: Robot;
  /** Only with `mirror`. */
  upstream!: Distribution;
  /** Only with `containerd`. */
  containerd!: Containerd;

  constructor(
    readonly label: string,
    private readonly opts: { rules: string[]; mirror?: boolean; containerd?: boolean },
  ) {
    this.work = scratch(`${label}-images`);
    this.img = testImages(path.join(this.work, "layout"), label);
  }

  async start(): Promise<void> {
    let env: Record<string, string> = { ANONYMOUS_PULL: "public/*" };
    if (this.opts.mirror) {
      this.upstream = new Distribution(await freePort());
      await this.upstream.start();
      await seed(this.img, this.upstream.host, "library");
      const upstreams = { "docker.io": { url: `http://${this.upstream.host}`, libraryPrefix: true } };
      env = { ...env, MIRROR_UPSTREAMS: JSON.stringify(upstreams), MIRROR_DEFAULT_UPSTREAM: "docker.io" };
    }
    this.sys = await startSystem(env);
    this.robot = makeRobot(this.sys, this.label, this.opts.rules);
    await seed(this.img, this.sys.host, "seed", this.sys.creds);
    if (this.opts.containerd) {
      this.containerd = new Containerd();
      await this.containerd.start();
    }
  }

  /** `<registry host:port>/<name>`, as clients write image references. */
  ref(name: string): string {
    return `${this.sys.host}/${name}`;
  }

  async dispose(): Promise<void> {
    await this.containerd?.dispose();
    await this.sys?.stop();
    await this.upstream?.dispose();
    rmSync(this.work, { recursive: true, force: true });
  }
}
