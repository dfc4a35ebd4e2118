/**
 * The EC2 Query protocol's parameters (`Name`, `Name.N`, `Name.N.Member.M`): parsed into a tree, then read
 * as strings, numbers, booleans, lists and structures, each refusal naming the full parameter as EC2 does.
 */
import { Ec2Error, ec2Errors } from './ec2-errors.js';

interface Node {
  value?: string;
  children: Map<string, Node>;
}

/** Authentication parameters of a pre-signed request; they are not action parameters. */
const AUTH_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);

const INDEX = /^[1-9][0-9]{0,4}$/;

export class Ec2Params {
  private constructor(
    private readonly node: Node,
    /** This structure's own name, with a trailing dot (`Filter.1.`), for error messages. */
    private readonly prefix: string,
  ) {}

  /** Builds the tree from decoded name/value pairs (a form body or a query string). */
  static parse(pairs: Iterable<[string, string]>): Ec2Params {
    const root: Node = { children: new Map() };
    for (const [key, value] of pairs) {
      if (AUTH_PARAMS.has(key)) continue;
      if (key === '' || key.split('.').some((segment) => segment === '')) {
        throw new Ec2Error('MalformedQueryString', `The parameter name '${key}' is malformed`);
      }
      let node = root;
      for (const segment of key.split('.')) {
        let child = node.children.get(segment);
        if (!child) {
          child = { children: new Map() };
          node.children.set(segment, child);
        }
        node = child;
      }
      // One value per name: with two, which one an action would read is a guess (`Action` above all).
      if (node.value !== undefined) throw new Ec2Error('MalformedQueryString', `The parameter ${key} is given more than once`);
      node.value = value;
    }
    return new Ec2Params(root, '');
  }

  /** The parameter names present at this level. */
  names(): string[] {
    return [...this.node.children.keys()];
  }

  has(name: string): boolean {
    return this.node.children.has(name);
  }

  /** Refuses any parameter at this level that is not in `allowed`. */
  allowOnly(allowed: ReadonlySet<string>): void {
    for (const name of this.names()) if (!allowed.has(name)) throw ec2Errors.unknownParameter(this.prefix + name);
  }

  string(name: string): string | undefined {
    const node = this.node.children.get(name);
    if (!node) return undefined;
    if (node.value === undefined || node.children.size > 0) {
      throw ec2Errors.invalidValue(this.prefix + name, '(structure)', 'A single value is expected');
    }
    return node.value;
  }

  requireString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw ec2Errors.missingParameter(this.prefix + name);
    return value;
  }

  int(name: string, range: { min: number; max: number }): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = /^-?[0-9]{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n)) throw ec2Errors.invalidValue(this.prefix + name, raw, 'An integer is expected.');
    if (n < range.min || n > range.max) {
      throw ec2Errors.invalidValue(this.prefix + name, raw, `Expecting a value between ${range.min} and ${range.max}.`);
    }
    return n;
  }

  bool(name: string): boolean | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const lower = raw.toLowerCase();
    if (lower !== 'true' && lower !== 'false') {
      throw ec2Errors.invalidValue(this.prefix + name, raw, 'Expecting true or false.');
    }
    return lower === 'true';
  }

  /** `Name.1=a&Name.2=b` -> ['a', 'b'], in index order. */
  list(name: string): string[] {
    return this.members(name).map(([index, node]) => {
      if (node.value === undefined || node.children.size > 0) {
        throw ec2Errors.invalidValue(`${this.prefix}${name}.${index}`, '(structure)', 'A single value is expected');
      }
      return node.value;
    });
  }

  /** `Name.1.A=x&Name.2.A=y` -> one Ec2Params per member, in index order. */
  structs(name: string): Ec2Params[] {
    return this.members(name).map(([index, node]) => {
      if (node.value !== undefined) {
        throw ec2Errors.invalidValue(`${this.prefix}${name}.${index}`, node.value, 'A structure is expected');
      }
      return new Ec2Params(node, `${this.prefix}${name}.${index}.`);
    });
  }

  /** `Name.A=x&Name.B=y` -> the structure `Name`. */
  struct(name: string): Ec2Params | undefined {
    const node = this.node.children.get(name);
    if (!node) return undefined;
    if (node.value !== undefined) throw ec2Errors.invalidValue(this.prefix + name, node.value, 'A structure is expected');
    return new Ec2Params(node, `${this.prefix}${name}.`);
  }

  /** The full name of a parameter at this level, as error messages show it. */
  nameOf(name: string): string {
    return this.prefix + name;
  }

  private members(name: string): Array<[string, Node]> {
    const node = this.node.children.get(name);
    if (!node) return [];
    if (node.value !== undefined) {
      throw ec2Errors.invalidValue(this.prefix + name, node.value, `A list is expected: ${this.prefix}${name}.1, .2, ...`);
    }
    for (const index of node.children.keys()) {
      if (!INDEX.test(index)) throw ec2Errors.unknownParameter(`${this.prefix}${name}.${index}`);
    }
    return [...node.children.entries()].sort((a, b) => Number(a[0]) - Number(b[0]));
  }
}
