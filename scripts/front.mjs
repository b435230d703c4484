// A thin TCP front for a local plain-HTTP listener.
//
// workerd's plain-HTTP listener never answers a TLS ClientHello, so Go clients started with
// --tls-verify=false (skopeo, podman, buildah, dockerd) wait out a 10 s handshake timeout before they fall
// back to http. This front looks at the first byte of each connection: a TLS handshake (0x16) gets an
// immediate HTTP 400, which makes the client fall back at once, as it does against distribution; anything
// else is piped byte for byte to the runtime (Host header, keep-alive and bodies untouched).
import net from "node:net";

const TLS_HANDSHAKE = 0x16;
const READ_BUFFER = 1024 * 1024;
const REFUSAL = "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/**
 * Listens on host:port and forwards to target (a URL, or set later with `server.setTarget(url)` — so the
 * public ports are known before the runtime starts). Resolves once listening, to the net.Server.
 */
export function startFront({ host, port, target }) {
  let to = target ? new URL(target) : undefined;
  const server = net.createServer({ noDelay: true }, (client) => {
    client.once("data", (first) => {
      if (first[0] === TLS_HANDSHAKE || !to) {
        client.end(REFUSAL);
        return;
      }
      client.pause();
      // Responses (blob pulls) are the heavy direction: read them into one large buffer, so a GiB
      // crosses in a few thousand reads instead of 64 KiB ones.
      const buffer = Buffer.allocUnsafe(READ_BUFFER);
      const upstream = net.connect({
        host: to.hostname,
        port: Number(to.port),
        noDelay: true,
        onread: {
          buffer,
          callback: (n, buf) => {
            if (client.write(Buffer.from(buf.subarray(0, n)))) return true;
            client.once("drain", () => upstream.resume());
            return false;
          },
        },
      }, () => {
        upstream.write(first);
        client.pipe(upstream);
        client.resume();
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on("error", close);
      client.on("error", close);
      upstream.on("close", () => client.end());
      client.on("close", () => upstream.end());
    });
    client.on("error", () => client.destroy());
  });
  server.setTarget = (url) => {
    to = new URL(url);
  };
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
