import { describe, expect, test } from "vitest";
import { drainUnread } from "../src/drain";

/** A request whose body yields `chunks` pieces of `size` bytes and counts how many were pulled. */
function counted(chunks: number, size: number) {
  const seen = { pulled: 0, closed: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) {
        seen.closed = true;
        controller.close();
        return;
      }
      seen.pulled++;
      controller.enqueue(new Uint8Array(size));
    },
  });
  const request = new Request("http://x/v2/a/blobs/uploads/u", { method: "PATCH", body, duplex: "half" } as RequestInit);
  return { request, seen };
}

describe("drainUnread", () => {
  test("reads an unread body to its end", async () => {
    const { request, seen } = counted(40, 64 * 1024);
    await drainUnread(request);
    expect(seen.pulled).toBe(40);
    expect(seen.closed).toBe(true);
  });

  test("reads the rest of a body a handler stopped reading and released", async () => {
    const { request, seen } = counted(10, 1024);
    const reader = request.body!.getReader();
    await reader.read();
    reader.releaseLock();
    await drainUnread(request);
    expect(seen.closed).toBe(true);
  });

  test("leaves alone a body still locked by a reader, and a request without a body", async () => {
    const { request, seen } = counted(10, 1024);
    request.body!.getReader();
    await drainUnread(request);
    expect(seen.closed).toBe(false);
    await expect(drainUnread(new Request("http://x/v2/"))).resolves.toBeUndefined();
  });

  test("a body that breaks off mid-way ends the drain without throwing", async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("connection lost"));
      },
    });
    const request = new Request("http://x/", { method: "PUT", body, duplex: "half" } as RequestInit);
    await expect(drainUnread(request)).resolves.toBeUndefined();
  });
});
