/**
 * One tag policy, EC2's limits, checked by the core before any operation is written and by any adapter
 * that keeps tags itself: every front refuses the same tags with the same reason.
 */
import { invalid } from './errors.js';
import type { Tags } from './model.js';

/**
 * A change to a resource's tags: keys to set, then keys to remove (only where the value matches, when
 * one is given). With `replace`, `set` is the whole new set and every other key goes.
 */
export interface TagChange {
  set?: Tags;
  replace?: boolean;
  remove?: Array<{ key: string; value?: string }>;
}

/** The tags `change` leaves of `tags` (neither is modified). */
export function applyTagChange(tags: Tags, change: TagChange): Tags {
  const next: Tags = { ...(change.replace ? {} : tags), ...change.set };
  for (const { key, value } of change.remove ?? []) {
    if (key in next && (value === undefined || next[key] === value)) delete next[key];
  }
  return next;
}

/** What a tag change did, for its audit event: keys given a new or changed value, and keys gone. */
export function tagDiff(before: Tags, after: Tags): { set: Tags; removed: string[] } {
  const set = Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k] !== v));
  return { set, removed: Object.keys(before).filter((k) => !(k in after)) };
}

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
