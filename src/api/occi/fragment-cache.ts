/**
 * Each compute's JSON rendering, kept while what it was rendered from stays the same (the inventory's
 * per-item version and its flavor), so a listing page costs lookups and a join rather than 100 renders.
 * Whole encoded pages are kept the same way, keyed by the request. The same idea as the EC2 front's XML
 * FragmentCache, for any rendering.
 */
export class FragmentCache<T = string> {
  private readonly entries = new Map<string, { parts: readonly unknown[]; text: T }>();

  constructor(private readonly limit = 50_000) {}

  /** The fragment of `id` rendered from exactly `parts` (compared by identity), else `render()`'s, kept. */
  get(id: string, parts: readonly unknown[], render: () => T): T {
    return this.peek(id, parts) ?? this.put(id, parts, render());
  }

  /** The fragment of `id` if it was rendered from exactly `parts`. */
  peek(id: string, parts: readonly unknown[]): T | undefined {
    const hit = this.entries.get(id);
    return hit && hit.parts.length === parts.length && hit.parts.every((p, i) => p === parts[i]) ? hit.text : undefined;
  }

  put(id: string, parts: readonly unknown[], text: T): T {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(id, { parts, text });
    return text;
  }
}
