// The admin APIs over HTTP, with errors that say what to do (plain Node 20 ESM, no dependencies).

/** A mistake in the command line: exit code 2 (`showUsage: false` when the usage text would not help). */
export class UsageError extends Error {
  /** @param {string} message @param {{ showUsage?: boolean }} [options] */
  constructor(message, { showUsage = true } = {}) {
    super(message);
    this.showUsage = showUsage;
  }
}

/** The API refused, failed or could not be reached: exit code 1. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, body?: any }} [answer]  the HTTP status and parsed JSON body, when the API answered
   */
  constructor(message, { status, body } = {}) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * Where an admin API lives and how to reach it.
 * @typedef {object} Target
 * @property {string} url         base URL, e.g. http://127.0.0.1:5080
 * @property {string} token       the admin bearer token
 * @property {string} name        what it is, for messages ("registry", "auth service")
 * @property {string} urlHint     how to point at another URL, e.g. "--registry URL (env REGISTRY_URL)"
 * @property {string} tokenHint   where the admin token comes from, for a 401
 */

/** The error text of an answer: the registry's `{"error"}` or the auth worker's `{"errors":[{code,message}]}`. */
function errorText(text) {
  try {
    const body = JSON.parse(text);
    if (typeof body.error === "string") return body.error;
    const error = body.errors?.[0];
    if (error) return `${error.code}: ${error.message}`;
  } catch {}
  return text.trim() || "(no body)";
}

/** The JSON of an answer, or undefined. */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One request to an admin API; the parsed JSON answer (null when empty).
 * @param {Target} target
 * @param {string} method
 * @param {string} path   e.g. /admin/robots
 * @param {unknown} [body]  sent as JSON
 * @returns {Promise<any>}
 */
export async function request(target, method, path, body) {
  let url;
  try {
    url = new URL(target.url.replace(/\/+$/, "") + path);
  } catch {
    throw new UsageError(`${JSON.stringify(target.url)} is not a URL for the ${target.name}: pass ${target.urlHint}`);
  }
  const headers = { Authorization: `Bearer ${target.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    const cause = e.cause?.code ?? e.cause?.message ?? e.message;
    throw new ApiError(
      `cannot reach the ${target.name} at ${target.url} (${cause}): start the system with \`pnpm start\`, or pass ${target.urlHint}`,
    );
  }
  const text = await res.text();
  if (res.status === 401) {
    throw new ApiError(`the ${target.name} at ${target.url} refused the admin token (401 ${errorText(text)}). ${target.tokenHint}`);
  }
  if (!res.ok) throw new ApiError(`${method} ${path} → ${res.status} ${errorText(text)}`, { status: res.status, body: parsed(text) });
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(`${method} ${path} → ${res.status}, but the answer is not JSON: is ${target.url} the ${target.name}?`);
  }
}

/**
 * Runs a command's main function: usage errors exit 2, API errors 1, each as one line `<prog>: <message>` on stderr.
 * @param {string} prog
 * @param {() => Promise<void>} main
 * @param {string} [usage]  printed after usage errors
 */
export async function run(prog, main, usage) {
  try {
    await main();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${prog}: ${e.message}${usage && e.showUsage ? `\n\n${usage}` : ""}`);
      process.exit(2);
    }
    console.error(`${prog}: ${e instanceof ApiError ? e.message : (e?.stack ?? e)}`);
    process.exit(1);
  }
}

/**
 * Lines of a table with space-padded columns.
 * @param {string[]} header
 * @param {string[][]} rows
 * @returns {string}
 */
export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? String(c ?? "") : String(c ?? "").padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
