// Progress of a push on stderr: on a terminal one line that keeps updating (a bar per blob), otherwise a plain
// line now and then (each chunk the registry stored, at most one a second) — what CI logs and tests read.

const MiB = 1024 * 1024;
const mib = (n) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const short = (digest) => digest.replace(/^(\w+:)(.{12}).*$/, "$1$2");

/** Reports on `stream` (stderr by default); `quiet` reports nothing. */
export class Progress {
  /** @param {{ stream?: NodeJS.WriteStream, tty?: boolean, quiet?: boolean }} [options] */
  constructor({ stream = process.stderr, tty = Boolean(stream.isTTY), quiet = false } = {}) {
    this.stream = stream;
    this.tty = tty;
    this.quiet = quiet;
    this.barShown = false;
  }

  /** A plain line (on a terminal it replaces the bar, which comes back with the next update). */
  line(text) {
    if (this.quiet) return;
    this.stream.write(this.tty && this.barShown ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.barShown = false;
  }

  /**
   * The progress of one blob of `size` bytes (`index` of `count`), as upload.mjs reports it.
   * @returns {import("./upload.mjs").BlobProgress}
   */
  blob(digest, size, index, count) {
    const name = `[${index}/${count}] ${short(digest)}`;
    let sent = 0;
    let stored = 0;
    let base = 0;
    let lastLine = 0;
    let lastBar = 0;
    const started = Date.now();
    const percent = (n) => (size === 0 ? 100 : Math.floor((n / size) * 100));
    const bar = (force) => {
      if (this.quiet || !this.tty) return;
      const now = Date.now();
      if (!force && now - lastBar < 100) return;
      lastBar = now;
      const at = Math.min(size, base + sent);
      const width = 30;
      const filled = size === 0 ? width : Math.round((at / size) * width);
      const rate = sent / Math.max(0.001, (now - started) / 1000);
      this.stream.write(`\r\x1b[K${name} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent(at)}% ${mib(at)}/${mib(size)} ${mib(rate)}/s`);
      this.barShown = true;
    };
    return {
      skipped: () => this.line(`${name} ${mib(size)}: already in the registry, skipped`),
      resumed: (offset) => {
        base = offset;
        stored = offset;
        this.line(`${name} resuming at ${mib(offset)} of ${mib(size)} (stored by an earlier run)`);
      },
      sending: (n) => {
        sent += n;
        bar(false);
      },
      stored: (offset) => {
        // What is stored is the base of what comes next (after a retry, the registry's offset).
        base = offset;
        sent = 0;
        stored = offset;
        if (this.tty) return bar(true);
        const now = Date.now();
        if (now - lastLine < 1000 && offset < size) return;
        lastLine = now;
        this.line(`${name} stored ${mib(stored)}/${mib(size)} (${percent(stored)}%)`);
      },
      retrying: (error, wait) => this.line(`${name} ${error.message}; retrying in ${(wait / 1000).toFixed(1)} s`),
      done: () => {
        const seconds = (Date.now() - started) / 1000;
        this.line(`${name} ${mib(size)} pushed in ${seconds.toFixed(1)} s`);
      },
    };
  }
}
