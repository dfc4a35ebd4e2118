/** The OCCI front's HTTP plumbing: content negotiation (406/415), the version check (501), auth, and sending a rendering. */
import { readFileSync } from 'node:fs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CallerContext, CoreServices, Principal, Role } from '../../core/index.js';
import { OcciError } from './errors.js';
import { plainBody, type Rendered, type Rendering } from './render.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
export const SERVER_HEADER = `skygate/${VERSION} OCCI/1.2`;

/** Media types we answer in, most preferred first (text/plain is GFD.223's default). */
const ANSWERS: Array<[string, Rendering]> = [
  ['text/plain', 'plain'],
  ['text/occi+plain', 'plain'],
  ['application/occi+json', 'json'],
  ['application/json', 'json'],
  ['text/occi', 'occi'],
  ['text/uri-list', 'uri-list'],
];
const BY_MEDIA = new Map(ANSWERS);

export interface Negotiated {
  /** The rendering of the answer and the media type to name in Content-Type. */
  as: Rendering;
  media: string;
  /** The rendering of the request body (text/plain when the request has none). */
  input: Rendering;
}

const OFFERED = {
  all: ANSWERS.map(([m]) => m),
  noUriList: ANSWERS.filter(([, r]) => r !== 'uri-list').map(([m]) => m),
};
/** The media type chosen per Accept header: clients send the same few, and matching them is not free. */
const chosen = new Map<string, string | false>();

function choose(req: Request, offered: string[], accept: string): string | false {
  const key = `${offered.length} ${accept}`;
  let media = chosen.get(key);
  if (media === undefined) {
    media = req.accepts(offered);
    if (chosen.size >= 1_000) chosen.clear();
    chosen.set(key, media);
  }
  return media;
}

export function negotiate(req: Request, allowUriList: boolean): Negotiated {
  const offered = allowUriList ? OFFERED.all : OFFERED.noUriList;
  const accept = req.get('accept');
  const media = accept ? choose(req, offered, accept) : 'text/plain';
  if (!media)
    throw new OcciError(
      406,
      `none of the accepted media types (${req.get('accept')}) is one skygate renders: ${offered.join(', ')}`,
    );
  const contentType = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let input: Rendering = 'plain';
  if (contentType !== '') {
    const r = BY_MEDIA.get(contentType);
    if (!r) throw new OcciError(415, `Content-Type ${contentType} is not an OCCI rendering (${[...BY_MEDIA.keys()].join(', ')})`);
    input = r;
  }
  return { as: BY_MEDIA.get(media) as Rendering, media, input };
}

/** A client may name its OCCI version in User-Agent (GFD.223 §3.6.5); one above 1.2 gets 501. */
export const checkVersion: RequestHandler = (req, res, next) => {
  res.setHeader('Server', SERVER_HEADER);
  const m = /OCCI\/(\d+)\.(\d+)/.exec(req.get('user-agent') ?? '');
  if (m && (Number(m[1]) > 1 || (Number(m[1]) === 1 && Number(m[2]) > 2))) {
    next(new OcciError(501, `OCCI/${m[1]}.${m[2]} is not supported; this server speaks OCCI/1.2`));
    return;
  }
  next();
};

/** The same API tokens as REST: `Authorization: Bearer <token>` or OpenStack-style `X-Auth-Token`. */
export function authenticate(core: CoreServices): RequestHandler {
  return (req, res, next) => {
    const token = req.get('x-auth-token');
    const authorization = req.get('authorization') ?? (token !== undefined ? `Bearer ${token}` : undefined);
    core.auth
      .authenticate(authorization)
      .then((principal) => {
        // Reading needs a viewer; anything else changes something.
        const role: Role = req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'operator';
        core.auth.require(principal, role);
        res.locals.principal = principal;
        next();
      })
      .catch(next);
  };
}

export function callerOf(req: Request, res: Response): CallerContext {
  const key = req.get('idempotency-key');
  return { principal: (res.locals.principal as Principal).tokenId, ...(key !== undefined && { idempotencyKey: key }) };
}

/** Sends a rendering: text/occi puts its lines in headers (body "OK"), text/plain in the body. */
export function send(res: Response, status: number, n: Negotiated, rendered: Rendered): void {
  res.status(status);
  res.setHeader('Content-Type', `${n.media}; charset=utf-8`);
  if (n.as === 'occi') {
    const byName = new Map<string, string[]>();
    for (const [k, v] of rendered.lines) byName.set(k, [...(byName.get(k) ?? []), v]);
    for (const [k, vs] of byName) res.setHeader(k, vs);
    res.send('OK\n');
    return;
  }
  if (n.as === 'plain') {
    res.send(rendered.lines.length > 0 ? plainBody(rendered.lines) : 'OK\n');
    return;
  }
  res.send(rendered.body ?? '');
}

const queries = new WeakMap<Request, Request['query']>();

/** The query string, parsed once per request (Express 5 parses it again on every read of `req.query`). */
export function queryOf(req: Request): Request['query'] {
  let query = queries.get(req);
  if (query === undefined) {
    query = req.query;
    queries.set(req, query);
  }
  return query;
}

/** The server's base URL, to make locations absolute where a rendering needs it (text/uri-list, Location). */
export const baseOf = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

export function route(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}
