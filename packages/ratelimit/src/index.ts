export { PullCounter } from "./pull-counter";
export type { PullAllowance, PullSlot } from "./pull-counter";
export { pullLimit, withPullLimit } from "./pull-limit";
export type { PullLimitOptions } from "./pull-limit";
