/**
 * A `Map` with a size bound, for the caches a worker keeps per isolate (verified tokens, upstream tokens,
 * checked secrets): an isolate lives for hours and must not grow with every distinct key it has seen.
 */

/**
 * A Map that holds at most `maxEntries` entries: setting a new key when full first deletes the oldest inserted
 * entry (insertion order; overwriting a key keeps its place). Everything else is a plain Map. Throws RangeError
 * for a bound below 1.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly maxEntries: number) {
    super();
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /** Sets `key`, evicting the oldest entries first when a new key would exceed the bound. */
  override set(key: K, value: V): this {
    if (!this.has(key)) {
      for (const oldest of this.keys()) {
        if (this.size < this.maxEntries) break;
        this.delete(oldest);
      }
    }
    return super.set(key, value);
  }
}
