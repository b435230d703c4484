// Where an unfinished upload is remembered between runs: one small JSON file per blob and target (registry,
// repository, digest) holding the session's URL and the offset the registry confirmed, under
// $XDG_CACHE_HOME/edge-registry-push/ (else ~/.cache/edge-registry-push/). Written after every chunk the registry
// took, removed once the blob is complete: rerunning a push that died resumes where the registry stands.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** The folder of the state files: `dir` when given, else the XDG cache folder. */
export function stateDir(dir) {
  if (dir) return dir;
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), ".cache");
  return path.join(cache, "edge-registry-push");
}

/**
 * The remembered upload of one blob to one repository.
 * `load()` → `{ location, offset, chunk }` or undefined; `save(location, offset, chunk)`; `clear()`.
 */
export class UploadState {
  /**
   * @param {string} dir  see stateDir
   * @param {string} registry  e.g. http://127.0.0.1:5080
   * @param {string} repository
   * @param {string} digest
   */
  constructor(dir, registry, repository, digest) {
    const key = createHash("sha256").update(`${registry}\n${repository}\n${digest}`).digest("hex").slice(0, 32);
    this.dir = dir;
    this.file = path.join(dir, `${key}.json`);
    this.identity = { registry, repository, digest };
  }

  /** @returns {{ location: string, offset: number, chunk?: number } | undefined} */
  load() {
    try {
      const saved = JSON.parse(readFileSync(this.file, "utf8"));
      if (saved.digest !== this.identity.digest || typeof saved.location !== "string") return undefined;
      return { location: saved.location, offset: Number(saved.offset) || 0, chunk: Number(saved.chunk) || undefined };
    } catch {
      return undefined;
    }
  }

  /**
   * Records the session, the offset the registry confirmed and the chunk size in use (written whole: a crash
   * leaves the old file).
   */
  save(location, offset, chunk) {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...this.identity, location, offset, chunk, saved: new Date().toISOString() }), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  clear() {
    rmSync(this.file, { force: true });
  }
}
