import http from "node:http";
import net from "node:net";

/** One HTTP response read off a raw connection. */
export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One client connection driven by hand, as a Go client drives it: requests written byte for byte, responses
 * parsed in order, so a test can tell a reset (`error`), a graceful close (`ended`) and a reused connection apart.
 */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  /** Set when the connection failed (e.g. ECONNRESET: a TCP reset from the other side). */
  error: NodeJS.ErrnoException | undefined;
  /** Set when the other side closed its half gracefully (FIN). */
  ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    });
    socket.on("error", (e) => {
      this.error = e;
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Connects to host:port (optionally from a given local address, e.g. 127.0.0.7). */
  static open(url: string, localAddress?: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port), localAddress }, () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Writes raw bytes; resolves when the kernel took them (or with the write error). */
  write(data: string | Buffer): Promise<Error | undefined> {
    return new Promise((resolve) => this.socket.write(data, (e) => resolve(e ?? undefined)));
  }

  /** Writes a request head (CRLF line endings added) and an optional body. */
  async request(lines: string[], body?: Buffer): Promise<Error | undefined> {
    const head = await this.write(`${lines.join("\r\n")}\r\n\r\n`);
    return head ?? (body ? this.write(body) : undefined);
  }

  /** Reads the next response (Content-Length or chunked body); rejects on a reset or a close before it is whole. */
  async response(timeoutMs = 30_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.buffer);
      if (parsed) {
        this.buffer = this.buffer.subarray(parsed.consumed);
        return parsed.response;
      }
      if (this.error) throw this.error;
      if (this.ended) throw new Error(`connection closed before a whole response (${this.buffer.length} bytes buffered)`);
      if (Date.now() > deadline) throw new Error("no response in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function parseResponse(buf: Buffer): { response: RawResponse; consumed: number } | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine = "", ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const status = Number(statusLine.split(" ")[1]);
  let at = end + 4;
  if (headers["transfer-encoding"]?.includes("chunked")) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(at, lineEnd).toString("latin1"), 16);
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
      if (size === 0) return { response: { status, headers, body: Buffer.concat(parts) }, consumed: at };
    }
  }
  const length = Number(headers["content-length"] ?? 0);
  if (buf.length < at + length) return undefined;
  return { response: { status, headers, body: Buffer.from(buf.subarray(at, at + length)) }, consumed: at + length };
}

/** One request with Node's http client (optionally from a given local address or over a given agent). */
export function httpRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer; localAddress?: string; agent?: http.Agent } = {},
): Promise<RawResponse & { reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers, localAddress: init.localAddress, agent: init.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** The error codes of an OCI error envelope (throws if the body is not one). */
export function errorCodes(body: Buffer): string[] {
  const parsed = JSON.parse(body.toString()) as { errors: { code: string }[] };
  return parsed.errors.map((e) => e.code);
}
