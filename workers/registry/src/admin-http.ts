/** The admin API's answers: JSON, errors as `{"error": "…"}`. */
export function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
}

export function error(status: number, message: string): Response {
  return json(status, { error: message });
}

/**
 * A request's JSON object body, with only the `allowed` fields; an empty body is `{}`. A string saying what is
 * wrong (for a 400) when the body is not JSON, not an object, or names another field.
 */
export async function readObject(request: Request, allowed: readonly string[]): Promise<Record<string, unknown> | string> {
  const text = await request.text();
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "the body must be JSON";
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the body must be a JSON object";
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) return `unknown field ${JSON.stringify(unknown)} (expected ${allowed.join(", ")})`;
  return body as Record<string, unknown>;
}

/**
 * The integer query parameter `name` of `url` (`fallback` when absent), or a string saying what is wrong when it
 * is not an integer in [min, max].
 */
export function queryInt(url: URL, name: string, fallback: number, min: number, max: number): number | string {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  return n >= min && n <= max ? n : `${name} must be an integer from ${min} to ${max}`;
}
