/**
 * The SHA-512 compression function (FIPS 180-4 §6.4.2). Internal to core: use `createHash("sha512")` from
 * `hash.ts`.
 *
 * JavaScript's bitwise operators work on 32 bits, so every 64-bit word is a (hi, lo) pair of int32s:
 * a rotation right by n < 32 is `hi' = (hi >>> n) | (lo << (32 - n))`, `lo' = (lo >>> n) | (hi << (32 - n))`,
 * by n > 32 the same with the halves swapped and n - 32; a 64-bit sum adds the low halves as unsigned numbers
 * (exact in a double), and carries `floor(sum / 2^32)` into the high half. The working variables stay in locals
 * and every 128-byte block is read straight from the caller's array.
 */

/** First 64 bits of the fractional parts of the cube roots of the first 80 primes, as hi, lo (FIPS 180-4 §4.2.3). */
const K512 = new Int32Array([
  0x428a2f98, 0xd728ae22, 0x71374491, 0x23ef65cd, 0xb5c0fbcf, 0xec4d3b2f, 0xe9b5dba5, 0x8189dbbc, 0x3956c25b,
  0xf348b538, 0x59f111f1, 0xb605d019, 0x923f82a4, 0xaf194f9b, 0xab1c5ed5, 0xda6d8118, 0xd807aa98, 0xa3030242,
  0x12835b01, 0x45706fbe, 0x243185be, 0x4ee4b28c, 0x550c7dc3, 0xd5ffb4e2, 0x72be5d74, 0xf27b896f, 0x80deb1fe,
  0x3b1696b1, 0x9bdc06a7, 0x25c71235, 0xc19bf174, 0xcf692694, 0xe49b69c1, 0x9ef14ad2, 0xefbe4786, 0x384f25e3,
  0x0fc19dc6, 0x8b8cd5b5, 0x240ca1cc, 0x77ac9c65, 0x2de92c6f, 0x592b0275, 0x4a7484aa, 0x6ea6e483, 0x5cb0a9dc,
  0xbd41fbd4, 0x76f988da, 0x831153b5, 0x983e5152, 0xee66dfab, 0xa831c66d, 0x2db43210, 0xb00327c8, 0x98fb213f,
  0xbf597fc7, 0xbeef0ee4, 0xc6e00bf3, 0x3da88fc2, 0xd5a79147, 0x930aa725, 0x06ca6351, 0xe003826f, 0x14292967,
  0x0a0e6e70, 0x27b70a85, 0x46d22ffc, 0x2e1b2138, 0x5c26c926, 0x4d2c6dfc, 0x5ac42aed, 0x53380d13, 0x9d95b3df,
  0x650a7354, 0x8baf63de, 0x766a0abb, 0x3c77b2a8, 0x81c2c92e, 0x47edaee6, 0x92722c85, 0x1482353b, 0xa2bfe8a1,
  0x4cf10364, 0xa81a664b, 0xbc423001, 0xc24b8b70, 0xd0f89791, 0xc76c51a3, 0x0654be30, 0xd192e819, 0xd6ef5218,
  0xd6990624, 0x5565a910, 0xf40e3585, 0x5771202a, 0x106aa070, 0x32bbd1b8, 0x19a4c116, 0xb8d2d0c8, 0x1e376c08,
  0x5141ab53, 0x2748774c, 0xdf8eeb99, 0x34b0bcb5, 0xe19b48a8, 0x391c0cb3, 0xc5c95a63, 0x4ed8aa4a, 0xe3418acb,
  0x5b9cca4f, 0x7763e373, 0x682e6ff3, 0xd6b2b8a3, 0x748f82ee, 0x5defb2fc, 0x78a5636f, 0x43172f60, 0x84c87814,
  0xa1f0ab72, 0x8cc70208, 0x1a6439ec, 0x90befffa, 0x23631e28, 0xa4506ceb, 0xde82bde9, 0xbef9a3f7, 0xb2c67915,
  0xc67178f2, 0xe372532b, 0xca273ece, 0xea26619c, 0xd186b8c7, 0x21c0c207, 0xeada7dd6, 0xcde0eb1e, 0xf57d4f7f,
  0xee6ed178, 0x06f067aa, 0x72176fba, 0x0a637dc5, 0xa2c898a6, 0x113f9804, 0xbef90dae, 0x1b710b35, 0x131c471b,
  0x28db77f5, 0x23047d84, 0x32caab7b, 0x40c72493, 0x3c9ebe0a, 0x15c9bebc, 0x431d67c4, 0x9c100d4c, 0x4cc5d4be,
  0xcb3e42b6, 0x597f299c, 0xfc657e2a, 0x5fcb6fab, 0x3ad6faec, 0x6c44198c, 0x4a475817,
]);

/** Initial hash value H(0) as hi, lo pairs (FIPS 180-4 §5.3.5). */
export const SHA512_IV: readonly number[] = [
  0x6a09e667, 0xf3bcc908, 0xbb67ae85, 0x84caa73b, 0x3c6ef372, 0xfe94f82b, 0xa54ff53a, 0x5f1d36f1, 0x510e527f,
  0xade682d1, 0x9b05688c, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b, 0x5be0cd19, 0x137e2179,
];

/** Message schedule as hi, lo pairs, shared: compression is synchronous, so one buffer serves every hash. */
const W512 = new Int32Array(160);

/** 2^32: dividing an unsigned sum of 32-bit halves by it gives the carry into the high half. */
const TWO32 = 4294967296;

/** Runs `blocks` 128-byte blocks of `m` starting at `off` through the compression function, updating `s`. */
export function compressSha512(s: Int32Array, m: Uint8Array, off: number, blocks: number): void {
  const w = W512;
  const k = K512;
  let h0h = s[0]!, h0l = s[1]!, h1h = s[2]!, h1l = s[3]!, h2h = s[4]!, h2l = s[5]!, h3h = s[6]!, h3l = s[7]!;
  let h4h = s[8]!, h4l = s[9]!, h5h = s[10]!, h5l = s[11]!, h6h = s[12]!, h6l = s[13]!, h7h = s[14]!, h7l = s[15]!;
  for (let blk = 0; blk < blocks; blk++, off += 128) {
    for (let i = 0, j = off; i < 32; i++, j += 4) {
      w[i] = (m[j]! << 24) | (m[j + 1]! << 16) | (m[j + 2]! << 8) | m[j + 3]!;
    }
    for (let i = 32; i < 160; i += 2) {
      // σ0(x) = rotr1 ^ rotr8 ^ shr7 of W[t-15]
      const xh = w[i - 30]!;
      const xl = w[i - 29]!;
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      // σ1(y) = rotr19 ^ rotr61 ^ shr6 of W[t-2]
      const yh = w[i - 4]!;
      const yl = w[i - 3]!;
      const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
      const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
      // W[t] = σ1 + W[t-7] + σ0 + W[t-16]
      const lo = (s1l >>> 0) + (w[i - 13]! >>> 0) + (s0l >>> 0) + (w[i - 31]! >>> 0);
      w[i] = (s1h + w[i - 14]! + s0h + w[i - 32]! + ((lo / TWO32) | 0)) | 0;
      w[i + 1] = lo | 0;
    }
    let ah = h0h, al = h0l, bh = h1h, bl = h1l, ch = h2h, cl = h2l, dh = h3h, dl = h3l;
    let eh = h4h, el = h4l, fh = h5h, fl = h5l, gh = h6h, gl = h6l, hh = h7h, hl = h7l;
    for (let i = 0; i < 160; i += 2) {
      // Σ1(e) = rotr14 ^ rotr18 ^ rotr41
      const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
      const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
      // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]
      const t1lo =
        (hl >>> 0) + (S1l >>> 0) + ((gl ^ (el & (fl ^ gl))) >>> 0) + (k[i + 1]! >>> 0) + (w[i + 1]! >>> 0);
      const t1h = (hh + S1h + (gh ^ (eh & (fh ^ gh))) + k[i]! + w[i]! + ((t1lo / TWO32) | 0)) | 0;
      const t1l = t1lo | 0;
      // Σ0(a) = rotr28 ^ rotr34 ^ rotr39
      const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      // T2 = Σ0(a) + Maj(a, b, c)
      const t2lo = (S0l >>> 0) + (((al & bl) | (cl & (al | bl))) >>> 0);
      const t2h = (S0h + ((ah & bh) | (ch & (ah | bh))) + ((t2lo / TWO32) | 0)) | 0;
      hh = gh; hl = gl;
      gh = fh; gl = fl;
      fh = eh; fl = el;
      const elo = (dl >>> 0) + (t1l >>> 0);
      eh = (dh + t1h + ((elo / TWO32) | 0)) | 0;
      el = elo | 0;
      dh = ch; dl = cl;
      ch = bh; cl = bl;
      bh = ah; bl = al;
      const alo = (t1l >>> 0) + (t2lo >>> 0);
      ah = (t1h + t2h + ((alo / TWO32) | 0)) | 0;
      al = alo | 0;
    }
    let lo: number;
    lo = (h0l >>> 0) + (al >>> 0); h0h = (h0h + ah + ((lo / TWO32) | 0)) | 0; h0l = lo | 0;
    lo = (h1l >>> 0) + (bl >>> 0); h1h = (h1h + bh + ((lo / TWO32) | 0)) | 0; h1l = lo | 0;
    lo = (h2l >>> 0) + (cl >>> 0); h2h = (h2h + ch + ((lo / TWO32) | 0)) | 0; h2l = lo | 0;
    lo = (h3l >>> 0) + (dl >>> 0); h3h = (h3h + dh + ((lo / TWO32) | 0)) | 0; h3l = lo | 0;
    lo = (h4l >>> 0) + (el >>> 0); h4h = (h4h + eh + ((lo / TWO32) | 0)) | 0; h4l = lo | 0;
    lo = (h5l >>> 0) + (fl >>> 0); h5h = (h5h + fh + ((lo / TWO32) | 0)) | 0; h5l = lo | 0;
    lo = (h6l >>> 0) + (gl >>> 0); h6h = (h6h + gh + ((lo / TWO32) | 0)) | 0; h6l = lo | 0;
    lo = (h7l >>> 0) + (hl >>> 0); h7h = (h7h + hh + ((lo / TWO32) | 0)) | 0; h7l = lo | 0;
  }
  s[0] = h0h; s[1] = h0l; s[2] = h1h; s[3] = h1l; s[4] = h2h; s[5] = h2l; s[6] = h3h; s[7] = h3l;
  s[8] = h4h; s[9] = h4l; s[10] = h5h; s[11] = h5l; s[12] = h6h; s[13] = h6l; s[14] = h7h; s[15] = h7l;
}
