import type { ReplicateReport, ReplicateRequest } from "./types";

/** Copies one reference to the target (issue 11 §1). (Stub: filled in shortly.) */
export async function replicate(_req: ReplicateRequest): Promise<ReplicateReport> {
  throw new Error("replicate: not implemented yet");
}
