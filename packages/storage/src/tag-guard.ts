import { OciError, tagRuleCovers } from "@registry/core";

import type { ProtectedTags } from "./ports";

/** A change the rules refused: the tag it would have moved or deleted, and the rule protecting it. */
export interface Refusal {
  tag: string;
  rule: string;
}

/** The first of `tags` a rule of `protect` covers, with that rule; undefined when none is protected. */
export function refusal(protect: ProtectedTags | undefined, tags: readonly string[]): Refusal | undefined {
  for (const tag of tags) {
    const rule = protect?.find((r) => tagRuleCovers(r.tag, tag));
    if (rule) return { tag, rule: rule.id };
  }
  return undefined;
}

/** The 403 DENIED a refused change answers, naming the tag and the rule. */
export function immutableTag(refused: Refusal): OciError {
  return new OciError("DENIED", {
    message: `tag "${refused.tag}" is immutable (rule ${refused.rule}): it can be neither moved nor deleted; push a new tag instead`,
    detail: { tag: refused.tag, rule: refused.rule },
  });
}
