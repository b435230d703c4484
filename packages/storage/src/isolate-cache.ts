/**
 * What one isolate remembers of the edge index between requests: entries expire `ttlMs` after they were read
 * (the part of the staleness bound spent here), and the whole cache holds at most `maxBytes` (an isolate has
 * 128 MB on Cloudflare) — the oldest entries go first. Keys are edge keys (`tag:<name>:<tag>` …).
 */
export class IsolateCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number; expires: number }>();
  private bytes = 0;

  constructor(
    readonly ttlMs: number,
    readonly maxBytes = 16 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value read for `key` less than `ttlMs` ago; undefined otherwise. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires > this.now()) return entry.value;
    this.remove(key);
    return undefined;
  }

  /** Remembers `value` (about `bytes` large) for `ttlMs`; a value over an eighth of the budget is not kept. */
  set(key: string, value: V, bytes: number): void {
    if (this.ttlMs <= 0 || bytes > this.maxBytes / 8) return;
    this.remove(key);
    for (const [oldest] of this.entries) {
      if (this.bytes + bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
    this.entries.set(key, { value, bytes, expires: this.now() + this.ttlMs });
    this.bytes += bytes;
  }

  /** Entries and bytes held (for tests and diagnostics). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(key);
  }
}
