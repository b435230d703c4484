// The local stand-in for Cloudflare's edge: an HTTP front on each public port that proxies to workerd. The server
// is scripts/front-server.mjs; this file runs it in a worker thread of its own.
//
// What it does that workerd's own listener does not (each observed with real clients):
// - TLS fallback. workerd never answers a TLS ClientHello, so Go clients told --tls-verify=false (skopeo,
//   podman, buildah, dockerd) wait out a 10 s handshake timeout before they fall back to http. A connection
//   whose first byte is a TLS handshake gets an immediate HTTP 400, as from distribution.
// - The client's address. `CF-Connecting-IP` is set from the socket's peer address, replacing whatever the
//   client sent, as the edge does: login throttling and pull limits count real addresses, never a header.
// - Early answers. workerd closes a connection whose request body was not read to the end, and closing a socket
//   with unread bytes makes the kernel send a TCP reset, which destroys an answer still in flight. The workers
//   therefore drain what they leave unread (packages/core/src/drain.ts); here, each client connection is apart
//   from workerd's: an answer that arrives before the client finished sending is passed on, and the rest of
//   the body is read and dropped (up to DRAIN_LIMIT bytes) so the connection stays usable; a larger rest gets
//   `Connection: close` and a lingering close (FIN, incoming bytes discarded until the client hangs up), and a
//   runtime connection reset before any answer a 502 in the envelope — never a reset passed on to the client.
// - An origin for blob bytes. A Node relay moves at most ~1.2 GB/s of the ~2.2 GB/s workerd serves on its own
//   listener here (2 cores: every byte crosses user space twice and Node's HTTP parser copies each body chunk), so
//   with `blobOrigin` the front names the runtime's listener in `X-Blob-Origin` (a client's own copy is dropped) and
//   the registry answers a GET of a big blob with a 307 to a signed URL there (packages/api/src/blob-urls.ts), as
//   Docker Hub and GHCR send blob GETs to a CDN.
// - Framing and idle bodies. Malformed HTTP (two Content-Length headers, a negative one, bad chunking) gets a
//   400 and a body that stays idle past `bodyIdleMs` a 408, both in the registry's JSON error envelope.
// - A heap of its own. In the process that runs Miniflare every 64 KiB body chunk Node's HTTP parser copies adds
//   external memory, and the major GCs that follow mark Miniflare's whole heap: the front cost 0.9 s of CPU per
//   300 MiB pushed (twice its cost alone), CPU the runtime's R2 simulator needs on 2 cores. In a worker thread the
//   same front costs 0.4 s; a 300 MiB GET relayed 0.5 s of user CPU in-process, 0.1–0.16 s in the thread. All
//   fronts share one thread, whose young generation is kept small (YOUNG_MB): with V8's default the thread's
//   resident memory grew by ~60 MiB during a 1 GiB push; with 2–8 MiB it stays within ~10 MiB of the in-process
//   front.
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { serveFront } from "./front-server.mjs";

export { DRAIN_LIMIT } from "./front-server.mjs";

/** The front thread's young generation (MiB): short-lived body buffers are collected before they pile up. */
const YOUNG_MB = 4;
/** How long a closing front waits for its connections before it is cut. */
const CLOSE_WAIT_MS = 1000;

/** The thread that serves every front of this process, while any is open. */
let host;

function thread() {
  if (!host) {
    const worker = new Worker(new URL(import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
    const calls = new Map();
    worker.on("message", ({ call, ...answer }) => calls.get(call)?.(answer));
    worker.on("error", (e) => console.error("front thread:", e));
    host = { worker, calls, next: 0, open: 0 };
  }
  return host;
}

/** Sends `message` to the front thread; resolves to its answer. */
function ask(h, message) {
  const call = h.next++;
  return new Promise((resolve) => {
    h.calls.set(call, (answer) => {
      h.calls.delete(call);
      resolve(answer);
    });
    h.worker.postMessage({ call, ...message });
  });
}

/**
 * Starts a front (options as `serveFront` in front-server.mjs: host, port, target, bodyIdleMs, blobOrigin) in the
 * front thread. Resolves once it listens, to a handle shaped like the net.Server it used to be: `address()`,
 * `setTarget(url)` (a request that arrives before it waits for it) and `close(callback)`.
 */
export async function startFront(options) {
  const h = thread();
  h.open++;
  const { front, address, error } = await ask(h, { start: options });
  if (error) {
    release(h);
    throw new Error(error);
  }
  return {
    address: () => address,
    setTarget: (url) => h.worker.postMessage({ front, target: String(url) }),
    close(callback) {
      void ask(h, { front, close: true }).then(() => {
        release(h);
        callback?.();
      });
    },
  };
}

/** One front fewer; the thread ends with the last. */
function release(h) {
  if (--h.open > 0) return;
  if (host === h) host = undefined;
  void h.worker.terminate();
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const fronts = new Map();
  let next = 0;
  port.on("message", async ({ call, start, front, target, close }) => {
    if (start) {
      try {
        const server = await serveFront(start);
        fronts.set(next, server);
        port.postMessage({ call, front: next++, address: server.address() });
      } catch (e) {
        port.postMessage({ call, error: String(e?.message ?? e) });
      }
    } else if (target) fronts.get(front)?.setTarget(target);
    else if (close) {
      const done = () => port.postMessage({ call });
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      fronts.get(front)?.close(() => {
        clearTimeout(timer);
        done();
      });
      fronts.delete(front);
    }
  });
}
