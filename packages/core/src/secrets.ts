/** Comparing secrets without leaking where they differ (WebCrypto only: Node 20 and workerd alike). */

/** Constant-time equality of two byte strings (time depends on the length only). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export async function equalSecrets(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", encoder.encode(s))));
  return constantTimeEqual(new Uint8Array(x!), new Uint8Array(y!));
}
