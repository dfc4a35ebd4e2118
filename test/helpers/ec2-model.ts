/**
 * Checks the EC2 front's XML against the EC2 service model that Debian's awscli package installs
 * (botocore's ec2/2016-11-15/service-2.json): every element must be a member of its shape, lists must
 * hold `item`s, and scalars must parse as their type.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

interface Shape {
  type: string;
  members?: Record<string, { shape: string; locationName?: string }>;
  member?: { shape: string; locationName?: string };
}
export interface ServiceModel {
  operations: Record<string, { output?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

const MODEL_PATH = /botocore\/data\/ec2\/2016-11-15\/service-2\.json$/;

/** Where the awscli package put the EC2 model, found through dpkg or, failing that, in the usual Python paths. */
export function findEc2Model(): string | undefined {
  try {
    const files = execFileSync('dpkg', ['-L', 'awscli'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const hit = files.split('\n').find((f) => MODEL_PATH.test(f));
    if (hit && existsSync(hit)) return hit;
  } catch {
    // no dpkg, or awscli not installed as a package: try the paths below
  }
  for (const lib of ['/usr/lib/python3/dist-packages', ...pythonLibs()]) {
    const candidate = path.join(lib, 'awscli/botocore/data/ec2/2016-11-15/service-2.json');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function pythonLibs(): string[] {
  try {
    return readdirSync('/usr/lib')
      .filter((d) => d.startsWith('python3'))
      .map((d) => path.join('/usr/lib', d, 'site-packages'));
  } catch {
    return [];
  }
}

export const loadEc2Model = (file: string): ServiceModel => JSON.parse(readFileSync(file, 'utf8')) as ServiceModel;

type XmlNode = Record<string, unknown>;
const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, parseTagValue: false, trimValues: false });

const nameOf = (node: XmlNode) => Object.keys(node).find((k) => k !== ':@') as string;
const childrenOf = (node: XmlNode) => (node[nameOf(node)] as XmlNode[]).filter((c) => nameOf(c) !== '#text');
const textOf = (node: XmlNode) =>
  (node[nameOf(node)] as XmlNode[])
    .filter((c) => nameOf(c) === '#text')
    .map((c) => String(c['#text']))
    .join('');

function checkScalar(type: string, text: string, where: string, problems: string[]): void {
  if (type === 'boolean' && text !== 'true' && text !== 'false') problems.push(`${where}: '${text}' is not a boolean`);
  if ((type === 'integer' || type === 'long') && !/^-?\d+$/.test(text)) problems.push(`${where}: '${text}' is not an integer`);
  if (type === 'timestamp' && Number.isNaN(Date.parse(text))) problems.push(`${where}: '${text}' is not a timestamp`);
}

function walk(model: ServiceModel, shapeName: string, node: XmlNode, where: string, problems: string[]): void {
  const shape = model.shapes[shapeName] as Shape;
  if (shape.type === 'structure') {
    const byElement = new Map(Object.entries(shape.members ?? {}).map(([name, m]) => [m.locationName ?? name, m.shape]));
    for (const child of childrenOf(node)) {
      const name = nameOf(child);
      const memberShape = byElement.get(name);
      if (!memberShape) problems.push(`${where}: <${name}> is not a member of ${shapeName}`);
      else walk(model, memberShape, child, `${where}/${name}`, problems);
    }
  } else if (shape.type === 'list') {
    const itemName = shape.member?.locationName ?? 'item';
    for (const [i, child] of childrenOf(node).entries()) {
      if (nameOf(child) !== itemName) problems.push(`${where}: list holds <${nameOf(child)}>, not <${itemName}>`);
      else walk(model, shape.member?.shape as string, child, `${where}[${i}]`, problems);
    }
  } else {
    if (childrenOf(node).length > 0) problems.push(`${where}: ${shapeName} is a ${shape.type}, but has child elements`);
    checkScalar(shape.type, textOf(node), where, problems);
  }
}

/** Problems of one response document (empty when it matches the model); errors are checked as EC2's error document. */
export function checkEc2Xml(model: ServiceModel, action: string, xml: string): string[] {
  const problems: string[] = [];
  const doc = (parser.parse(xml) as XmlNode[]).filter((n) => nameOf(n) !== '?xml');
  const root = doc[0];
  if (!root || doc.length !== 1) return ['the document has no single root element'];
  if (nameOf(root) !== `${action}Response`) return [`the root is <${nameOf(root)}>, not <${action}Response>`];
  const xmlns = (root[':@'] as Record<string, string> | undefined)?.['@_xmlns'];
  if (xmlns !== 'http://ec2.amazonaws.com/doc/2016-11-15/') problems.push(`xmlns is '${xmlns}'`);
  const output = model.operations[action]?.output?.shape;
  const members = childrenOf(root);
  if (!members.some((m) => nameOf(m) === 'requestId')) problems.push('no <requestId>');
  const rest: XmlNode = { [`${action}Response`]: members.filter((m) => nameOf(m) !== 'requestId') };
  if (output) walk(model, output, rest, action, problems);
  else {
    // Actions without an output shape answer only <return>true</return>, as EC2 does.
    for (const m of childrenOf(rest))
      if (nameOf(m) !== 'return') problems.push(`${action}: <${nameOf(m)}> but the action has no output`);
  }
  return problems;
}
