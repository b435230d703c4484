// Makes sure the real clients the end-to-end tests drive are installed: Debian's skopeo (and
// docker-registry, the reference registry the benchmark and mirror tests use). Installs them with
// apt-get when running as root; otherwise says what to install.
import { execFileSync, execSync } from "node:child_process";

const wanted = { skopeo: "skopeo", "docker-registry": "docker-registry" };
const missing = Object.entries(wanted)
  .filter(([bin]) => {
    try {
      execSync(`command -v ${bin}`, { stdio: "ignore", shell: "/bin/sh" });
      return false;
    } catch {
      return true;
    }
  })
  .map(([, pkg]) => pkg);

if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`missing test clients: run  sudo apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
  console.log(`installing ${missing.join(", ")} from Debian's packages`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}
