// Types of tar-layer.mjs (plain JS, shared by the tests and bench/lib/files.mjs).

/** 512-byte ustar header for one regular file `name` (at most 100 bytes) of `size` bytes, mode 0644. */
export function tarHeader(name: string, size: number): Buffer;

/** What follows a file's `size` content bytes: padding to a 512-byte block, then the two zero blocks ending the tar. */
export function tarTrailer(size: number): Buffer;

/** A whole tar holding one file `name` with `content`. */
export function tarOf(name: string, content: Buffer): Buffer;

/** Feeds `size` pseudo-random bytes to `write`, in chunks of up to 4 MiB, every chunk unique. */
export function writeRandom(size: number, write: (chunk: Buffer) => Promise<void>): Promise<void>;

/**
 * Writes into `blobs` a tar+gzip (level 0) layer holding one file `name` of `size` random bytes, streamed, named
 * by its digest. Returns the gzip's digest and size and the tar's digest (diffId).
 */
export function writeRandomLayer(blobs: string, name: string, size: number): Promise<{ digest: string; size: number; diffId: string }>;
