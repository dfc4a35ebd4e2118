/**
 * EC2 filters (`Filter.N.Name`, `Filter.N.Value.M`): parsed and checked against what an action offers,
 * then turned into a predicate. Values within a filter are alternatives, filters all apply, and values
 * may use EC2's wildcards (`*`, `?`, with `\` escaping them).
 */
import { Ec2Error, ec2Errors } from './ec2-errors.js';
import type { Ec2Params } from './query-parser.js';

export interface Ec2Filter {
  name: string;
  values: string[];
}

/** What a filter reads from a resource: one value, several (any may match), or none. */
export type FilterField<R> = (resource: R) => string | readonly string[] | undefined;

const MAX_FILTERS = 50;
const MAX_VALUES = 200;

export function parseFilters(params: Ec2Params): Ec2Filter[] {
  const filters = params.structs('Filter');
  if (filters.length > MAX_FILTERS) throw ec2Errors.invalidFilter(`At most ${MAX_FILTERS} filters are allowed`);
  return filters.map((f) => {
    for (const name of f.names()) {
      if (name !== 'Name' && name !== 'Value') throw ec2Errors.invalidFilter(`The filter member ${f.nameOf(name)} is not valid`);
    }
    const name = f.string('Name');
    if (name === undefined || name === '') throw ec2Errors.invalidFilter(`The filter ${f.nameOf('Name')} is missing`);
    const values = f.list('Value');
    if (values.length === 0) throw ec2Errors.invalidFilter(`The filter '${name}' has no values (${f.nameOf('Value')}.1)`);
    if (values.length > MAX_VALUES) throw ec2Errors.invalidFilter(`The filter '${name}' has more than ${MAX_VALUES} values`);
    return { name, values };
  });
}

/** `*` any run, `?` one character, `\` escapes either; everything else is literal. */
function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) out += (glob[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function matcher(values: string[]): (value: string) => boolean {
  if (values.every((v) => !/[*?\\]/.test(v))) {
    const set = new Set(values);
    return (v) => set.has(v);
  }
  const patterns = values.map(globToRegex);
  return (v) => patterns.some((p) => p.test(v));
}

/**
 * A predicate applying every filter, with `fields` saying what each filter name reads; `tag:KEY`,
 * `tag-key` and `tag-value` come for free when the resource has tags. An unknown name is refused.
 */
export function filterPredicate<R extends object>(
  filters: Ec2Filter[],
  fields: Record<string, FilterField<R>>,
): ((resource: R) => boolean) | undefined {
  if (filters.length === 0) return undefined;
  const tagsOf = (r: R) => (r as { tags?: Record<string, string> }).tags;
  const tests = filters.map(({ name, values }): ((r: R) => boolean) => {
    const match = matcher(values);
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      return (r) => {
        const tags = tagsOf(r);
        return tags !== undefined && key in tags && match(tags[key] as string);
      };
    }
    if (name === 'tag-key') return (r) => Object.keys(tagsOf(r) ?? {}).some(match);
    if (name === 'tag-value') return (r) => Object.values(tagsOf(r) ?? {}).some(match);
    const field = fields[name];
    if (!field) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    return (r) => {
      const got = field(r);
      if (got === undefined) return false;
      return typeof got === 'string' ? match(got) : got.some(match);
    };
  });
  return (r) => tests.every((t) => t(r));
}
