/**
 * One tag policy, EC2's limits, checked by the core before any operation is written and by any adapter
 * that keeps tags itself: every front refuses the same tags with the same reason.
 */
import { invalid } from './errors.js';
import type { Tags } from './model.js';

export const TAG_LIMITS = { maxTags: 50, maxKeyLength: 128, maxValueLength: 256 } as const;

/** Throws `invalid_input` naming `field` (e.g. `body.tags`) and the first rule `tags` breaks. */
export function checkTags(tags: Tags | undefined, field: string): void {
  if (tags === undefined) return;
  const keys = Object.keys(tags);
  if (keys.length > TAG_LIMITS.maxTags) {
    throw invalid(field, `a resource carries at most ${TAG_LIMITS.maxTags} tags (${keys.length} given)`);
  }
  for (const key of keys) {
    if (key.length < 1 || key.length > TAG_LIMITS.maxKeyLength) {
      throw invalid(field, `key '${key}' must be 1 to ${TAG_LIMITS.maxKeyLength} characters`);
    }
    const value = tags[key];
    if (typeof value !== 'string') throw invalid(field, `the value of '${key}' must be a string`);
    if (value.length > TAG_LIMITS.maxValueLength) {
      throw invalid(field, `the value of '${key}' must be at most ${TAG_LIMITS.maxValueLength} characters`);
    }
  }
}
