export { PullCounter } from "./pull-counter";
export type { PullAllowance, PullSlot } from "./pull-counter";
export { clientAddress, ipv6Prefix64 } from "./client-key";
export { withPullLimit } from "./pull-limit";
export type { PullLimitOptions } from "./pull-limit";
