import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Debian's docker-registry (distribution 2.8.2) on loopback: the reference registry, used as a mirror's
 * upstream. `stop()` and `start()` again keep its data (to test an upstream that goes away).
 */
export class Distribution {
  readonly dir = mkdtempSync(path.join(tmpdir(), "distribution-"));
  readonly data = path.join(this.dir, "data");
  private child: ChildProcess | undefined;
  /** Access-log lines (`"GET /v2/... HTTP/1.1" 200 ...`) since start. */
  readonly requests: string[] = [];
  constructor(readonly port: number) {
    writeFileSync(
      path.join(this.dir, "config.yml"),
      [
        "version: 0.1",
        "log: { level: error, accesslog: { disabled: false } }",
        `storage: { filesystem: { rootdirectory: ${this.data} }, delete: { enabled: true }, cache: { blobdescriptor: "" } }`,
        `http: { addr: 127.0.0.1:${port} }`,
      ].join("\n"),
    );
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Path of a blob's bytes in distribution's filesystem layout. */
  blobPath(digest: string): string {
    const hex = digest.slice("sha256:".length);
    return path.join(this.data, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
  }

  async start(): Promise<void> {
    this.child = spawn("docker-registry", ["serve", path.join(this.dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    const collect = (d: Buffer) => {
      for (const line of d.toString().split("\n")) if (line.includes('"')) this.requests.push(line);
    };
    this.child.stdout!.on("data", collect);
    this.child.stderr!.on("data", collect);
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://${this.host}/v2/`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("docker-registry did not start");
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * An upstream that fails on purpose, chosen by the repository in the path: `/v2/status-<code>/…` answers
 * <code>; `/v2/silent/…` never answers; `/v2/stalls/…` sends the headers of a 1000-byte answer (all of a
 * HEAD) and the first 100 bytes of its body, then nothing more. Every connection is cut when it stops.
 */
export class FailingUpstream {
  private readonly server = http.createServer((req, res) => {
    const repository = /^\/v2\/([^/]+)\//.exec(req.url ?? "")?.[1] ?? "";
    const status = /^status-(\d{3})$/.exec(repository)?.[1];
    if (status) {
      res.writeHead(Number(status), { "Content-Type": "text/plain" }).end("failing on purpose");
    } else if (repository === "stalls") {
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": "1000", "Docker-Content-Digest": `sha256:${"0".repeat(64)}` });
      if (req.method === "HEAD") res.end();
      else res.write(Buffer.alloc(100, 1));
    } else if (repository !== "silent") {
      res.writeHead(404).end();
    }
  });

  constructor(readonly port: number) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
