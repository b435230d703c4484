// Makes sure the real clients the end-to-end tests drive are installed: Debian's skopeo, podman, buildah,
// containerd (ctr), docker.io (dockerd and the docker CLI), chromium (the web page's browser test) and
// docker-registry (the reference registry the benchmark and the mirror tests use as an upstream). Installs the missing ones with apt-get when running as
// root; otherwise stops with the command to run. This is the one list: .ci/run calls this script too.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Debian package → the files the tests run. Checked by path, not on PATH: /usr/local/bin/docker, for one, can
 * be some other docker CLI that shadows Debian's /usr/bin/docker.
 */
const PACKAGES = {
  skopeo: ["/usr/bin/skopeo"],
  "docker-registry": ["/usr/bin/docker-registry"],
  podman: ["/usr/bin/podman"],
  buildah: ["/usr/bin/buildah"],
  containerd: ["/usr/bin/containerd", "/usr/bin/ctr"],
  "docker.io": ["/usr/sbin/dockerd", "/usr/bin/docker"],
  // The web page's browser test (test/e2e/ui.test.ts) drives it with playwright-core.
  chromium: ["/usr/bin/chromium"],
};

const missing = Object.entries(PACKAGES)
  .filter(([, files]) => files.some((f) => !existsSync(f)))
  .map(([pkg]) => pkg);

if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(
      `the end-to-end tests drive Debian's container clients; not installed: ${missing.join(", ")}\n` +
        `run as root:  apt-get update && apt-get install -y ${missing.join(" ")}`,
    );
    process.exit(1);
  }
  console.log(`installing ${missing.join(", ")} from Debian's packages`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const still = Object.entries(PACKAGES).flatMap(([, files]) => files.filter((f) => !existsSync(f)));
  if (still.length > 0) {
    console.error(`apt-get finished but these are still missing: ${still.join(", ")}`);
    process.exit(1);
  }
}
