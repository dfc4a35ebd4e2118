/** Collects what is wrong with a descriptor, so one error names every problem rather than the first. */
import { SkygateError } from '../core/errors.js';

export class Problems {
  readonly errors: Array<{ field: string; reason: string }> = [];
  readonly warnings: string[] = [];

  error(field: string, reason: string): void {
    this.errors.push({ field, reason });
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** Throws `invalid_input` listing every error, if there is any. */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    const shown = this.errors.slice(0, 5).map((e) => `${e.field}: ${e.reason}`);
    if (this.errors.length > shown.length) shown.push(`and ${this.errors.length - shown.length} more`);
    throw new SkygateError('invalid_input', shown.join('; '), { field: this.errors[0]?.field, errors: [...this.errors] });
  }
}

/** A non-negative integer from descriptor text, or undefined (recording an error) when it is not one. */
export function parseCount(raw: string | undefined, field: string, problems: Problems): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const s = raw.trim();
  const n = /^\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    problems.error(field, `'${s}' is not a non-negative integer`);
    return undefined;
  }
  return n;
}
