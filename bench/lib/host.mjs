// The end of a bench host process (bench/bare-r2.mjs, ceiling.mjs, lib/gc-host.mjs: a Miniflare instance in a
// process of its own, so its memory can be measured alone): announce its URLs, then stop cleanly on SIGINT/SIGTERM.

/**
 * Prints each of `lines` (e.g. `url http://…`), then `ready` (what the parent waits for), and disposes of `mf`
 * (after `beforeDispose`, e.g. closing a front) when the parent stops the process.
 */
export function serveUntilStopped(mf, lines, beforeDispose = async () => undefined) {
  for (const line of lines) console.log(line);
  console.log("ready");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await beforeDispose();
      await mf.dispose();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
