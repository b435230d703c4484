import { describe, expect, test } from "vitest";
import { concatBytes, readBounded } from "../src/bytes";

/** A request whose body yields `sizes` chunks (byte i of the body is i % 251) and records how far it was read. */
function streamed(sizes: number[], headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = sizes[seen.pulled];
      if (size === undefined) return controller.close();
      seen.pulled++;
      controller.enqueue(Uint8Array.from({ length: size }, () => at++ % 251));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  const request = new Request("http://x/", { method: "PUT", body, headers, duplex: "half" } as RequestInit);
  return { request, seen };
}

describe("readBounded", () => {
  test("reads a body of up to the limit whole, in order", async () => {
    const { request } = streamed([3, 4, 5]);
    const bytes = await readBounded(request, 12);
    expect(bytes).toEqual(Uint8Array.from({ length: 12 }, (_, i) => i));
  });

  test("a body past the limit: null, reading stops, the reader is released (not cancelled) for drainUnread", async () => {
    const { request, seen } = streamed([8, 8, 8, 8]);
    expect(await readBounded(request, 10)).toBeNull();
    expect(seen.pulled).toBeLessThan(4);
    expect(seen.cancelled).toBe(false);
    expect(request.body!.locked).toBe(false);
  });

  test("a Content-Length over the limit is refused before reading", async () => {
    const { request, seen } = streamed([4], { "Content-Length": "4" });
    expect(await readBounded(request, 3)).toBeNull();
    expect(seen.pulled).toBe(0);
  });

  test("no body reads as empty bytes; a Response works too", async () => {
    expect(await readBounded(new Request("http://x/"), 10)).toEqual(new Uint8Array(0));
    expect(new TextDecoder().decode((await readBounded(new Response("héllo"), 6))!)).toBe("héllo");
    expect(await readBounded(new Response("héllo"), 5)).toBeNull();
  });
});

describe("concatBytes", () => {
  test.each<[number[][], number[]]>([
    [[], []],
    [[[1, 2, 3]], [1, 2, 3]],
    [[[1], [], [2, 3], [4]], [1, 2, 3, 4]],
  ])("%j → %j", (chunks, expected) => {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect([...concatBytes(chunks.map((c) => Uint8Array.from(c)), total)]).toEqual(expected);
  });

  test("a single chunk of the whole size is returned as is", () => {
    const only = Uint8Array.of(1, 2);
    expect(concatBytes([only], 2)).toBe(only);
  });
});
