// The HTTP front's server (what it does and why: scripts/front.mjs, which runs it in a thread of its own).
import http from "node:http";
import net from "node:net";

const TLS_HANDSHAKE = 0x16;
const REFUSAL = "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/** How much of an early-answered request's body is read and dropped to keep its connection open. */
export const DRAIN_LIMIT = 64 * 1024 * 1024;
const READ_SIZE = 1024 * 1024;
const SLAB_SIZE = 8 * READ_SIZE;
/** How long a request that arrives before the runtime's URL is known waits for it. */
const TARGET_WAIT_MS = 10_000;
/** How long a closing connection keeps discarding what the client still sends (lingering close). */
const LINGER_MS = 2_000;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
/** Answered here (100 Continue is sent by Node's server), so not passed on. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, "expect", "cf-connecting-ip", "x-blob-origin"]);

/** The spec's error envelope (OCI distribution §"Error codes"), as the registry renders it. */
function envelope(code, message, detail) {
  return JSON.stringify({ errors: [{ code, message, detail }] });
}

/** An answer of the front's own (the request could not be parsed, timed out, or workerd failed), then a graceful close. */
function rawAnswer(socket, status, reason, code, message, detail) {
  const body = envelope(code, message, detail);
  const head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  if (socket.writable) socket.write(head + body);
  linger(socket);
}

/** The same through a ServerResponse whose headers are not sent yet. */
function answer(res, status, code, message, detail) {
  const body = envelope(code, message, detail);
  const socket = res.socket;
  socket.destroySoon = () => linger(socket);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Connection: "close" });
  res.end(body);
}

/** Closes gracefully: FIN after what was written, incoming bytes discarded until the client closes (or LINGER_MS). */
function linger(socket) {
  if (socket.destroyed) return;
  socket.end();
  socket.on("data", () => undefined);
  socket.resume();
  socket.once("end", () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * A connection to workerd read in steps of up to 1 MiB (Node's default is 64 KiB): a blob of a GiB crosses the front in
 * about a thousand reads instead of sixteen thousand. Each read is handed on as a 'data' chunk, as Node's HTTP
 * client expects; pausing the socket (backpressure from a slow client) still stops the reads.
 */
function upstreamSocket(options) {
  let slab = Buffer.allocUnsafe(SLAB_SIZE);
  let used = 0;
  const socket = net.connect({
    ...options,
    onread: {
      // Each read lands in the free part of a slab and is handed on without a copy; a new slab is taken once
      // less than READ_SIZE is left (the old one lives until the chunks cut from it are written and dropped).
      buffer: () => {
        if (SLAB_SIZE - used < READ_SIZE) {
          slab = Buffer.allocUnsafe(SLAB_SIZE);
          used = 0;
        }
        return slab.subarray(used, used + READ_SIZE);
      },
      callback: (n) => {
        const chunk = slab.subarray(used, used + n);
        used += n;
        socket.emit("data", chunk);
      },
    },
  });
  return socket;
}

/** The peer address as the edge would give it: IPv4-mapped IPv6 written as plain IPv4. */
function peerAddress(socket) {
  return (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.)/i, "");
}

/**
 * Request headers for workerd: the client's, minus hop-by-hop ones and any address or origin it claimed; with
 * `blobOrigin`, the runtime's own listener `to` as the client reaches it (the host it asked for, the runtime's port).
 */
function forwardHeaders(req, to, blobOrigin) {
  const out = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!NOT_FORWARDED.has(name)) out[name] = value;
  }
  out["cf-connecting-ip"] = peerAddress(req.socket);
  if (blobOrigin) out["x-blob-origin"] = `${to.protocol}//${requestedHost(req, to)}:${to.port}`;
  return out;
}

/** The host name the client used to reach the front (its Host header), else the runtime's. */
function requestedHost(req, to) {
  try {
    return new URL(`http://${req.headers.host}`).hostname || to.hostname;
  } catch {
    return to.hostname;
  }
}

/** Response headers for the client, as workerd sent them (case kept), minus hop-by-hop ones. */
function responseHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push([raw[i], raw[i + 1]]);
  }
  return out;
}

/** Bytes of the request body not yet received, or undefined when the body is chunked (unknown). */
function remainingBody(req, received) {
  const length = Number(req.headers["content-length"]);
  return Number.isSafeInteger(length) ? Math.max(0, length - received) : undefined;
}

/** Does the request carry a body (Content-Length above 0, or chunked)? */
function hasBody(req) {
  return Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
}

/**
 * Proxies one request to workerd at `to`; see the file comment for early answers and idle bodies. Requests
 * without a body reuse idle connections of `agent` and are sent again once on a fresh connection when a reused
 * one turns out closed (workerd may close an idle connection just as it is reused); requests with a body (they
 * cannot be replayed) always get a fresh connection.
 */
function proxy(req, res, to, agent, { bodyIdleMs, blobOrigin }) {
  const body = hasBody(req);
  const socket = req.socket;
  let received = 0;
  let idle;
  let timedOut = false;
  let up;
  const stopIdle = () => clearTimeout(idle);
  const armIdle = () => {
    stopIdle();
    if (req.complete) return;
    idle = setTimeout(() => {
      // Waiting on workerd (backpressure) is not the client's idleness.
      if (up.writableNeedDrain) return armIdle();
      timedOut = true;
      up.destroy();
      if (res.headersSent) return socket.destroy();
      answer(res, 408, "BLOB_UPLOAD_INVALID", "request body idle: nothing received in time", { idleSeconds: bodyIdleMs / 1000 });
    }, bodyIdleMs);
  };

  const send = (retried) => {
    up = http.request({
      host: to.hostname,
      port: Number(to.port),
      method: req.method,
      path: req.url,
      headers: forwardHeaders(req, to, blobOrigin),
      setHost: false,
      ...(body ? { agent: false, createConnection: upstreamSocket } : { agent }),
    });
    up.setNoDelay(true);
    up.on("response", (upRes) => passOn(upRes, up));
    up.on("error", (err) => {
      stopIdle();
      if (timedOut || res.headersSent || up.res) return;
      if (!body && !retried && up.reusedSocket) return send(true);
      // e.g. workerd answered before reading the body and reset the connection (its answer is lost with the
      // reset): the workers drain what they leave unread (packages/core/src/drain.ts).
      answer(res, 502, "UNKNOWN", "the local runtime closed the connection without an answer", { error: err.code ?? err.message });
    });
    if (body) req.pipe(up);
    else up.end();
  };

  const passOn = (upRes, from) => {
    const early = !req.complete;
    const headers = responseHeaders(upRes.rawHeaders);
    if (early) {
      // workerd will reset its side; the client's rest is dropped here, or the connection closed gracefully.
      req.unpipe(from);
      stopIdle();
      const rest = remainingBody(req, received);
      if (rest === undefined || rest > DRAIN_LIMIT) {
        headers.push(["Connection", "close"]);
        socket.destroySoon = () => linger(socket);
        req.resume();
      } else {
        drain(req, socket);
      }
    }
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers.flat());
    upRes.pipe(res);
    upRes.on("error", () => socket.destroy());
    // A connection workerd answered early is never reused.
    upRes.on("end", () => early && from.destroy());
  };

  if (body) {
    req.on("data", (chunk) => {
      received += chunk.length;
      armIdle();
    });
    req.on("end", stopIdle);
    req.on("error", () => up.destroy());
    armIdle();
  } else {
    req.resume();
  }
  send(false);
}

/** Reads and drops the rest of a request body (at most DRAIN_LIMIT more bytes, else the connection closes). */
function drain(req, socket) {
  let dropped = 0;
  req.on("data", (chunk) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT) linger(socket);
  });
  req.resume();
}

/** Answers what Node's HTTP parser refuses (bad framing, headers too large, slow headers) in the envelope. */
function onClientError(err, socket) {
  if (!socket.writable || err.code === "ECONNRESET" || socket._httpMessage?.headersSent) return socket.destroy();
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return rawAnswer(socket, 408, "Request Timeout", "UNKNOWN", "request not received in time", undefined);
  }
  if (err.code === "HPE_HEADER_OVERFLOW") {
    return rawAnswer(socket, 431, "Request Header Fields Too Large", "UNKNOWN", "request headers too large", undefined);
  }
  rawAnswer(socket, 400, "Bad Request", "UNKNOWN", "malformed HTTP request", { reason: err.reason ?? err.code });
}

/**
 * Listens on host:port and forwards to target (a URL, or set later with `server.setTarget(url)` — so the
 * public ports are known before the runtime starts; a request that comes first waits for it up to TARGET_WAIT_MS,
 * then is answered 503). `bodyIdleMs` (30 s): how long a request body may send nothing before it is answered 408.
 * `blobOrigin`: name the target as the origin of blob bytes (see above; only for a worker that serves signed blob
 * URLs, the registry). Resolves once listening, to the net.Server.
 */
export function serveFront({ host, port, target, bodyIdleMs = 30_000, blobOrigin = false }) {
  let to = target ? new URL(target) : undefined;
  let targetSet;
  const targetKnown = new Promise((resolve) => (targetSet = resolve));
  const agent = new http.Agent({ keepAlive: true, scheduling: "lifo" });
  agent.createConnection = upstreamSocket;
  const forward = (req, res) => proxy(req, res, to, agent, { bodyIdleMs, blobOrigin });
  const web = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    if (to) return forward(req, res);
    const wait = setTimeout(() => answer(res, 503, "UNKNOWN", "starting, try again", undefined), TARGET_WAIT_MS);
    void targetKnown.then(() => {
      clearTimeout(wait);
      if (!res.headersSent) forward(req, res);
    });
  });
  web.on("clientError", onClientError);
  // A high-water mark of a few reads lets a 1 MiB chunk be written without pausing the runtime's side each time.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true, pauseOnConnect: true, highWaterMark: 4 * READ_SIZE }, (client) => {
    client.on("error", () => client.destroy());
    client.once("data", (first) => {
      if (first[0] === TLS_HANDSHAKE) {
        client.end(REFUSAL);
        return;
      }
      client.pause();
      client.unshift(first);
      web.emit("connection", client);
      process.nextTick(() => client.resume());
    });
    client.resume();
  });
  server.setTarget = (url) => {
    to = new URL(url);
    targetSet();
  };
  const close = server.close.bind(server);
  server.close = (callback) => {
    close(callback);
    web.closeAllConnections();
    agent.destroy();
    return server;
  };
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
