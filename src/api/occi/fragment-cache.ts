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
    const hit = this.entries.get(id);
    if (hit && hit.parts.length === parts.length && hit.parts.every((p, i) => p === parts[i])) return hit.text;
    if (this.entries.size >= this.limit) this.entries.clear();
    const text = render();
    this.entries.set(id, { parts, text });
    return text;
  }
}
