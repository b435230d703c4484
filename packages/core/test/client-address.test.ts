import { expect, test } from "vitest";
import { clientAddress, ipv6Prefix64 } from "../src/client-address";

// One table for every place that counts clients by address (pull limits, login throttling).
test.each([
  ["203.0.113.7", "203.0.113.7"],
  [" 203.0.113.7 ", "203.0.113.7"],
  ["::ffff:203.0.113.7", "203.0.113.7"],
  ["::FFFF:192.0.2.1", "192.0.2.1"],
  ["2001:db8:a:b:c:d:e:f", "2001:db8:a:b::/64"],
  ["2001:0db8:000a:b::1", "2001:db8:a:b::/64"],
  ["2001:db8::", "2001:db8:0:0::/64"],
  ["2001:db8::1", "2001:db8:0:0::/64"],
  ["2001:0db8:0001:0002:0003:0004:0005:0006", "2001:db8:1:2::/64"],
  ["2001:DB8:A:B::1", "2001:db8:a:b::/64"],
  ["::1", "0:0:0:0::/64"],
  ["", "unknown"],
  ["not-an-ip", "unknown"],
  ["1:2:3:4:5:6:7:8:9", "unknown"],
  ["1::2::3", "unknown"],
  ["garbage:::", "unknown"],
])("CF-Connecting-IP %j counts as %j", (header, expected) => {
  const headers: Record<string, string> = { "X-Forwarded-For": "10.0.0.1" };
  if (header) headers["CF-Connecting-IP"] = header;
  expect(clientAddress(new Request("http://x/", { headers }))).toBe(expected);
});

test("without CF-Connecting-IP the address is unknown, whatever X-Forwarded-For claims", () => {
  expect(clientAddress(new Request("http://x/", { headers: { "X-Forwarded-For": "198.51.100.1", "X-Real-IP": "198.51.100.2" } }))).toBe("unknown");
});

test.each([
  ["2001:db8::1", "2001:db8:0:0::/64"],
  ["2001:0db8:0001:0002:0003:0004:0005:0006", "2001:db8:1:2::/64"],
  ["[2001:db8:1:2::9]", "2001:db8:1:2::/64"],
  ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ["::1", "0:0:0:0::/64"],
  ["garbage:::", null],
  ["1:2:3:4:5:6:7", null],
  ["12345::1", null],
])("IPv6 %s → %s", (ip, prefix) => {
  expect(ipv6Prefix64(ip)).toBe(prefix);
});
