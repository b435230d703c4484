import { afterEach, describe, expect, test, vi } from "vitest";
import { admin, createRobot, getToken } from "./helpers";

/** The auth worker's log line names who asked: the account a token was issued to, the admin, or anonymous. */
async function loggedLines(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => {});
  await work();
  return spy.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>).filter((l) => "requestId" in l);
}

afterEach(() => vi.restoreAllMocks());

describe("request log subjects", () => {
  test("a token for a robot, an anonymous token and an admin call", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const lines = await loggedLines(async () => {
      expect((await getToken(["repository:ci/app:pull"], robot)).status).toBe(200);
      expect((await getToken(["repository:ci/app:pull"])).status).toBe(200);
      expect((await admin("GET", "/admin/robots")).status).toBe(200);
    });
    expect(lines.map((l) => [l.route, l.subject])).toEqual([
      ["token.get", robot.name],
      ["token.get", "anonymous"],
      ["admin.robots.list", "(admin)"],
    ]);
  });
});
