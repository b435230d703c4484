// Reading a tarball's table of contents without reading its members: where each regular file starts and how long
// it is, so a member (a layer inside a `docker save` archive) can be streamed straight from the archive.
import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";

const BLOCK = 512;

/** The header field at `offset` of `length` bytes, up to its first NUL. */
function field(header, offset, length) {
  const raw = header.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? length : nul).toString("utf8");
}

/** A size field: octal text, or base-256 (first byte 0x80) for members of 8 GiB and more. */
function sizeField(header) {
  const raw = header.subarray(124, 136);
  if (raw[0] & 0x80) {
    let n = 0;
    for (let i = 1; i < raw.length; i++) n = n * 256 + raw[i];
    return n;
  }
  return Number.parseInt(field(header, 124, 12).trim() || "0", 8);
}

/** `path=` of a pax extended header's records (`<len> path=<value>\n`). */
function paxPath(text) {
  for (const record of text.split("\n")) {
    const m = /^\d+ path=(.*)$/s.exec(record);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The regular files of the tarball `file` (ustar, with GNU long names and pax paths; symbolic links to members,
 * as `docker save` writes, resolved): name (without a leading `./`) → `{ offset, size }` of its bytes in the archive.
 * @param {string} file
 * @returns {Map<string, { offset: number, size: number }>}
 * @throws Error when the file is not a tarball or ends inside a member
 */
export function readTarIndex(file) {
  const fd = openSync(file, "r");
  const entries = new Map();
  const links = new Map();
  try {
    const header = Buffer.alloc(BLOCK);
    let at = 0;
    let longName;
    for (;;) {
      const n = readSync(fd, header, 0, BLOCK, at);
      if (n < BLOCK || header.every((b) => b === 0)) break;
      if (field(header, 257, 5) !== "ustar" && entries.size === 0 && longName === undefined) {
        throw new Error(`${file} is not a tar archive`);
      }
      const size = sizeField(header);
      const type = String.fromCharCode(header[156] || 48);
      const body = at + BLOCK;
      const next = body + Math.ceil(size / BLOCK) * BLOCK;
      if (type === "L" || type === "x") {
        const text = Buffer.alloc(size);
        readSync(fd, text, 0, size, body);
        longName = type === "L" ? field(text, 0, size) : (paxPath(text.toString("utf8")) ?? longName);
      } else {
        const prefix = field(header, 345, 155);
        const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
        longName = undefined;
        if (type === "0" || type === "7") entries.set(name.replace(/^\.\//, ""), { offset: body, size });
        if (type === "2") links.set(name.replace(/^\.\//, ""), path.posix.join(path.posix.dirname(name), field(header, 157, 100)));
      }
      at = next;
    }
  } finally {
    closeSync(fd);
  }
  for (const [name, target] of links) {
    const member = entries.get(target.replace(/^\.\//, ""));
    if (member && !entries.has(name)) entries.set(name, member);
  }
  return entries;
}

/** Reads a whole (small) member of the tarball. */
export function readMember(file, member) {
  const fd = openSync(file, "r");
  try {
    const bytes = Buffer.alloc(member.size);
    let done = 0;
    while (done < member.size) {
      const n = readSync(fd, bytes, done, member.size - done, member.offset + done);
      if (n === 0) throw new Error(`${file} ends inside a member`);
      done += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
