#!/usr/bin/env node
// `pnpm push SOURCE HOST/REPO[:TAG]`: pushes an image or a blob in chunks no larger than the registry takes —
// for layers over a request body limit (Cloudflare's edge: 100 MB Free/Pro, 200 MB Business, 500 MB Enterprise)
// that docker and containerd, which send each layer in one request, cannot push. Resumes where an earlier run
// stopped. Plain Node 20, no dependencies; the logic is in push.mjs (importable).
import { parseArgs } from "node:util";
import { Progress } from "./progress.mjs";
import { push } from "./push.mjs";

const USAGE = `usage: pnpm push [options] SOURCE HOST/REPOSITORY[:TAG]

SOURCE
  oci:DIR[:TAG]              an OCI image layout (index.json); an image or a multi-platform index
  docker-archive:FILE[:REF]  a tarball from \`docker save\` or \`skopeo copy … docker-archive:FILE\`
  blob:FILE                  one file as a blob (prints its digest)

options
  --creds USER:PASSWORD      credentials (else env REGISTRY_CREDS; anonymous without)
  --plain-http               http instead of https (always for 127.0.0.1 and localhost)
  --tls-verify=false         the same, as skopeo spells it
  --chunk-size SIZE          bytes per request, e.g. 50MiB (default: the registry's OCI-Chunk-Max-Length, else 64MiB)
  --retries N                attempts per chunk before giving up (default 6, with backoff)
  --state-dir DIR            where unfinished uploads are remembered (default $XDG_CACHE_HOME/edge-registry-push)
  --json                     print the result as JSON on stdout (digest, bytes sent, skipped, resumed)
  --quiet                    no progress on stderr

Prints the pushed manifest's digest (a blob's for blob:). Rerun the same command after a failure: it resumes
without sending again what the registry already stored.`;

/** `64MiB`, `50MB`, `8m`, `1048576` → bytes. */
function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?)b?$/i.exec(text.trim());
  if (!m) throw new Error(`--chunk-size ${JSON.stringify(text)}: expected bytes or a size like 64MiB`);
  const base = m[3] || !m[2] ? 1024 : 1000;
  const power = { "": 0, k: 1, m: 2, g: 3 }[m[2].toLowerCase()];
  return Math.floor(Number(m[1]) * base ** power);
}

function usage(message) {
  console.error(`push: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        creds: { type: "string" },
        "plain-http": { type: "boolean" },
        "tls-verify": { type: "string" },
        "chunk-size": { type: "string" },
        retries: { type: "string" },
        "state-dir": { type: "string" },
        json: { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    usage(e.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 2) usage("expected SOURCE and HOST/REPOSITORY[:TAG]");
  const [source, destination] = positionals;
  const options = {
    creds: values.creds ?? process.env.REGISTRY_CREDS,
    plainHttp: values["plain-http"] === true || values["tls-verify"] === "false",
    chunkSize: values["chunk-size"] === undefined ? undefined : parseSize(values["chunk-size"]),
    retries: values.retries === undefined ? undefined : Number(values.retries),
    stateDir: values["state-dir"],
    progress: new Progress({ quiet: values.quiet }),
  };
  if (options.chunkSize !== undefined && !(options.chunkSize > 0)) usage("--chunk-size must be positive");
  const result = await push(source, destination, options);
  if (values.json) {
    const { digest, mediaType, reference, bytesSent, bytesSkipped, bytesResumed, blobs } = result;
    console.log(JSON.stringify({ digest, mediaType, reference, bytesSent, bytesSkipped, bytesResumed, blobs }, null, 2));
  } else {
    options.progress.line(`pushed ${result.reference} (sent ${result.bytesSent} bytes, skipped ${result.bytesSkipped}, resumed ${result.bytesResumed})`);
    console.log(result.digest);
  }
}

main().catch((e) => {
  console.error(`push: ${e.message}`);
  if (e.status === undefined && !/ECONNREFUSED|ENOTFOUND|no such/.test(e.message)) {
    console.error("push: rerun the same command to resume: what the registry stored is not sent again");
  }
  process.exit(1);
});
