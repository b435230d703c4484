import { describe, expect, test } from "vitest";
import { THROTTLE, afterFailure, blockDelayMs, retryAfterMs } from "../src/throttle";
import { SERVICE, admin, basic, call, createRobot } from "./helpers";

describe("the throttling policy", () => {
  test("5 failures free per pair, then 2 s doubling up to 5 minutes", () => {
    const delays = Array.from({ length: 16 }, (_, i) => blockDelayMs(i + 1, THROTTLE.pairFreeFailures));
    expect(delays).toEqual([0, 0, 0, 0, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000, 300_000]);
    expect(blockDelayMs(1000, 5)).toBe(300_000);
    expect(blockDelayMs(19, THROTTLE.addressFreeFailures)).toBe(0);
    expect(blockDelayMs(20, THROTTLE.addressFreeFailures)).toBe(2_000);
  });

  test("a counter is forgotten 15 minutes after its last failure", () => {
    let c = null;
    for (let i = 0; i < 7; i++) c = afterFailure(c, 1_000 * i, 5);
    expect(c).toMatchObject({ count: 7, blockedUntil: 6_000 + 8_000 });
    expect(retryAfterMs(c, 7_000)).toBe(7_000);
    expect(retryAfterMs(c, 14_000)).toBe(0);
    expect(afterFailure(c, 6_000 + THROTTLE.windowMs - 1, 5).count).toBe(8);
    expect(afterFailure(c, 6_000 + THROTTLE.windowMs, 5).count).toBe(1);
  });
});

const tokenPath = `/token?service=${SERVICE}&scope=repository:ci/app:pull`;
function attempt(name: string, secret: string, ip: string, xff?: string) {
  const headers: Record<string, string> = { Authorization: basic(name, secret), "CF-Connecting-IP": ip };
  if (xff) headers["X-Forwarded-For"] = xff;
  return call({ path: tokenPath, headers });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("failed logins are throttled per (account, address) and per address", () => {
  test("after 5 failures: 429 + Retry-After, X-Forwarded-For changes nothing, another address and the right secret after the wait get in", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const ip = "192.0.2.1";
    for (let i = 0; i < 5; i++) expect((await attempt(robot.name, "wrong", ip)).status).toBe(401);

    const blocked = await attempt(robot.name, "wrong", ip);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("2");
    expect(((await blocked.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("TOOMANYREQUESTS");
    // the right secret is refused too while blocked (not even checked)
    expect((await attempt(robot.name, robot.secret, ip)).status).toBe(429);
    // spoofed X-Forwarded-For does not change the counted address
    for (const xff of ["10.0.0.1", "203.0.113.9, 10.0.0.2", "1.1.1.1"]) {
      expect((await attempt(robot.name, "wrong", ip, xff)).status).toBe(429);
    }
    // a legitimate CI elsewhere is not locked out
    expect((await attempt(robot.name, robot.secret, "192.0.2.2")).status).toBe(200);

    // after the wait the right secret gets in, and a success clears the pair
    await sleep(2_100);
    expect((await attempt(robot.name, robot.secret, ip)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await attempt(robot.name, "wrong", ip)).status).toBe(401);
  });

  test("the wait doubles with each further failure", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const ip = "192.0.2.3";
    for (let i = 0; i < 5; i++) await attempt(robot.name, "wrong", ip);
    expect((await attempt(robot.name, "wrong", ip)).headers.get("retry-after")).toBe("2");
    await sleep(2_100);
    expect((await attempt(robot.name, "wrong", ip)).status).toBe(401); // the 6th failure, checked
    const next = await attempt(robot.name, "wrong", ip);
    expect(next.status).toBe(429);
    expect(["3", "4"]).toContain(next.headers.get("retry-after"));
  });

  test("parallel guesses learn at most the first five results", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(robot.name, `guess-${i}`, "192.0.2.4")));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
  });

  test("unknown accounts count the same; 20 failures from one address block that address for every account", async () => {
    const ip = "192.0.2.5";
    for (let i = 0; i < 20; i++) expect((await attempt(`nobody-${i}`, "wrong", ip)).status).toBe(401);
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const blocked = await attempt(robot.name, robot.secret, ip);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("2");
    expect((await attempt(robot.name, robot.secret, "192.0.2.6")).status).toBe(200);
  });

  test("IPv6 clients are counted per /64", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    for (let i = 0; i < 5; i++) expect((await attempt(robot.name, "wrong", `2001:db8:1:2::${i + 1}`)).status).toBe(401);
    expect((await attempt(robot.name, "wrong", "2001:db8:1:2:ffff::9")).status).toBe(429);
    expect((await attempt(robot.name, robot.secret, "2001:db8:1:3::1")).status).toBe(200);
  });

  test("wrong admin tokens are throttled too", async () => {
    const ip = "192.0.2.7";
    const wrong = () => call({ path: "/admin/robots", headers: { Authorization: "Bearer guess", "CF-Connecting-IP": ip } });
    for (let i = 0; i < 5; i++) expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(429);
    expect((await admin("GET", "/admin/robots")).status).toBe(200); // from another address
  });
});
