/**
 * The EC2 Query API front (API version 2016-11-15), served at /ec2: parses the query, verifies the
 * AWS Signature V4 against skygate's access keys, maps the credential scope's region onto a provider,
 * calls the core through one handler per action and renders EC2's XML, errors included.
 */
import { hash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import express from 'express';
import { isSkygateError, type Role } from '../../core/index.js';
import type { CoreServices } from '../../core/services/index.js';
import { ACTIONS } from './actions/index.js';
import type { Ec2Context } from './context.js';
import { isDecompressionError } from '../http-body.js';
import { Ec2Error, toEc2Error } from './ec2-errors.js';
import { IdMap } from './id-map.js';
import { Ec2Params } from './query-parser.js';
import { verifySigV4 } from './sigv4-verify.js';
import { FragmentCache, KeptAnswers, renderError, renderResponse } from './xml-render.js';

export const EC2_API_VERSION = '2016-11-15';
/** Where the server mounts this front. */
export const EC2_MOUNT = '/ec2';

/** Whether a request is the EC2 front's: its path is /ec2 or under it, in any case (as express mounts a path). */
export function isEc2Path(url: string | undefined): boolean {
  const path = pathOf(url).toLowerCase();
  return path === EC2_MOUNT || path.startsWith(`${EC2_MOUNT}/`);
}

const pathOf = (url: string | undefined) => {
  const u = url ?? '/';
  const at = u.indexOf('?');
  return at < 0 ? u : u.slice(0, at);
};

/** The request's route as the request metrics name it (express's way: the mount, then the route or `unmatched`). */
export const ec2RouteOf = (url: string | undefined) => (isEndpoint(pathOf(url)) ? `${EC2_MOUNT}/` : `${EC2_MOUNT}unmatched`);

/** The one endpoint, `/ec2` (or `/ec2/`); anything else under the mount is an unknown path of this front. */
const isEndpoint = (path: string) => {
  const p = path.toLowerCase();
  return p === EC2_MOUNT || p === `${EC2_MOUNT}/`;
};

export interface Ec2Options {
  bodyLimitBytes: number;
  log: { error(obj: object, msg?: string): void };
}

/** Parameters every action takes besides its own. */
const COMMON = new Set(['Action', 'Version', 'DryRun']);
/** Paging parameters: a NextToken stays valid when only these change. */
const PAGING = new Set(['NextToken', 'MaxResults']);

/** `Describe*` only reads, so a viewer may call it; everything else changes something. */
const roleFor = (action: string): Role => (action.startsWith('Describe') ? 'viewer' : 'operator');

/** Identifies a query apart from its paging parameters, so a NextToken only continues the query that issued it. */
function queryKeyOf(region: string, pairs: Array<[string, string]>, withPaging = false): string {
  const sorted = pairs.filter(([k]) => withPaging || !PAGING.has(k)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return hash('sha256', JSON.stringify([region, sorted]), 'base64url').slice(0, 22);
}

/** `f`, computed on the first call only. */
function once<T>(f: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: f() };
    return value.v;
  };
}

function decodedQuery(search: string): Array<[string, string]> {
  return [...new URLSearchParams(search)];
}

function queryMap(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

const XML = 'text/xml;charset=UTF-8';

/**
 * Sends a document's chunks: a few large ones (a cached page) are written as they are, corked into one
 * writev; many small ones are joined first, which costs less than as many writes.
 */
function sendChunks(res: ServerResponse, chunks: Buffer[]): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', XML);
  if (chunks.length > 8) {
    const body = Buffer.concat(chunks);
    res.setHeader('Content-Length', body.length);
    res.end(body);
    return;
  }
  res.setHeader(
    'Content-Length',
    chunks.reduce((n, c) => n + c.length, 0),
  );
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
  res.uncork();
}

/** Answers an error in EC2's dialect outside an action (a body that timed out), with a fresh request id. */
export function sendEc2Error(res: ServerResponse, err: Ec2Error): void {
  const requestId = randomUUID();
  res.setHeader('x-amzn-RequestId', requestId);
  sendError(res, err, requestId);
}

function sendError(res: ServerResponse, err: Ec2Error, requestId: string): void {
  const body = Buffer.from(renderError(err.code, err.message, requestId));
  res.statusCode = err.status;
  res.setHeader('Content-Type', XML);
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/** The EC2 form of a body-parser failure, when it is one. */
function bodyError(e: unknown): Ec2Error | undefined {
  const h = e as { type?: string; limit?: number; message?: string };
  if (h?.type === 'entity.too.large') {
    return new Ec2Error('RequestEntityTooLarge', `The request body is larger than the ${h.limit} bytes accepted`, 413);
  }
  if (h?.type === 'encoding.unsupported') {
    return new Ec2Error('UnsupportedEncoding', `${h.message}; send the body as it is, or gzip, deflate or br`, 415);
  }
  if (isDecompressionError(e)) {
    return new Ec2Error(
      'MalformedQueryString',
      `The request body is not valid data of its Content-Encoding (${h.message}); send it as it is, or encoded as declared`,
    );
  }
  return undefined;
}

/** The front, as a plain request listener: one endpoint needs no router, and express costs on every request. */
export type Ec2Front = (req: IncomingMessage, res: ServerResponse) => void;

export function createEc2Front(core: CoreServices, options: Ec2Options): Ec2Front {
  const ids = new IdMap(core.idAliases);
  const fragments = new FragmentCache();
  // Whole pages are large: only the most recent hundred queries keep theirs.
  const pages = new FragmentCache(100);
  const answers = new KeptAnswers(100);

  // The raw bytes are what SigV4 signed, so the body is kept as it came (inflated when it was sent compressed)
  // and parsed here; body-parser's reader works on any Node request, express or not.
  const readBody = express.raw({ type: () => true, limit: options.bodyLimitBytes });

  const answer = async (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => {
    const requestId = randomUUID();
    // As EC2: the SDKs read a failed call's request id from this header, not from the error body.
    res.setHeader('x-amzn-RequestId', requestId);
    try {
      if (req.method !== 'GET' && req.method !== 'POST') {
        throw new Ec2Error('UnsupportedProtocol', `The EC2 Query API takes GET or POST, not ${req.method}`, 405);
      }
      const url = req.url ?? '/';
      const at = url.indexOf('?');
      const path = at < 0 ? url : url.slice(0, at);
      const queryPairs = at < 0 ? [] : decodedQuery(url.slice(at + 1));
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const type = req.headers['content-type'] ?? '';
      if (body.length > 0 && !/^application\/x-www-form-urlencoded\b/i.test(type)) {
        throw new Ec2Error('MalformedQueryString', `A request body must be application/x-www-form-urlencoded, not '${type}'`);
      }
      const bodyPairs = body.length > 0 ? decodedQuery(body.toString('utf8')) : [];

      const method = req.method ?? 'GET';
      const verified = await core.auth
        .guarded(
          req.socket.remoteAddress ?? 'unknown',
          'ec2',
          () =>
            verifySigV4({ method, path, query: queryMap(queryPairs), headers: req.headers, body }, async (accessKeyId) =>
              core.accessKeys.resolve(accessKeyId),
            ),
          // A key that is unknown or a signature that does not match: what guessing a secret looks like.
          (e) => e instanceof Ec2Error && (e.code === 'AuthFailure' || e.code === 'SignatureDoesNotMatch'),
        )
        .catch((e: unknown) => {
          if (!isSkygateError(e) || e.code !== 'throttled') throw e;
          // As EC2 throttles: RequestLimitExceeded, here with 429 and the seconds to wait.
          res.setHeader('Retry-After', String(e.retryAfter ?? 1));
          throw new Ec2Error('RequestLimitExceeded', `Request limit exceeded: ${e.message}`, 429);
        });
      if (!core.providers.has(verified.region)) {
        throw new Ec2Error(
          'AuthFailure',
          `Credential should be scoped to a valid region: '${verified.region}' is not a provider of this gateway (${core.providers.ids().join(', ')})`,
          401,
        );
      }

      const pairs = [...queryPairs, ...bodyPairs];
      const params = Ec2Params.parse(pairs);
      const action = params.string('Action');
      if (action === undefined || action === '')
        throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      const version = params.string('Version');
      if (version === undefined || version === '')
        throw new Ec2Error('MissingParameter', 'The request must contain the parameter Version');
      if (version !== EC2_API_VERSION) {
        throw new Ec2Error(
          'NoSuchVersion',
          `The requested version (${version}) of service AmazonEC2 does not exist; this endpoint speaks ${EC2_API_VERSION}`,
        );
      }
      const def = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!def) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      try {
        core.auth.require(verified.principal, roleFor(action));
      } catch {
        throw new Ec2Error(
          'UnauthorizedOperation',
          `You are not authorized to perform this operation: ${action} needs the ${roleFor(action)} role; ${verified.principal.name} is ${verified.principal.role}`,
          403,
        );
      }
      for (const name of params.names()) {
        if (def.unsupported.has(name))
          throw new Ec2Error('UnsupportedOperation', `The parameter ${name} is not supported by skygate's ${action}`);
        if (!COMMON.has(name) && !def.params.has(name))
          throw new Ec2Error('UnknownParameter', `The parameter ${name} is not recognized`);
      }
      if (params.bool('DryRun') === true) {
        throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      }

      const ctx: Ec2Context = {
        core,
        params,
        action,
        region: verified.region,
        principal: verified.principal,
        caller: { principal: verified.principal.tokenId },
        ids,
        requestId,
        endpoint: `${(req.socket as TLSSocket).encrypted ? 'https' : 'http'}://${req.headers.host ?? ''}${EC2_MOUNT}`,
        queryKey: once(() => queryKeyOf(verified.region, pairs)),
        requestKey: once(() => queryKeyOf(verified.region, pairs, true)),
        fragments,
        pages,
        answers,
      };
      const result = await def.run(ctx);
      await ids.flush().catch((e: unknown) => {
        // Cached XML holds ids that must be resolvable later: drop it with the ids that were not recorded.
        fragments.clear();
        pages.clear();
        answers.clear();
        throw e;
      });
      sendChunks(res, renderResponse(action, requestId, result));
    } catch (e) {
      const err = toEc2Error(e);
      if (err.code === 'InternalError') options.log.error({ err: e, requestId }, 'EC2 front: unhandled error');
      sendError(res, err, requestId);
    }
  };

  return (req, res) => {
    readBody(req, res, (e?: unknown) => {
      // Body-parser failures (a body over the limit, a body that is not what its Content-Encoding says) and any
      // other path under the mount still answer in EC2's dialect.
      if (e) return sendEc2Error(res, bodyError(e) ?? toEc2Error(e));
      const path = pathOf(req.url);
      if (!isEndpoint(path)) {
        return sendEc2Error(
          res,
          new Ec2Error('InvalidAction', `The EC2 Query API is served at ${EC2_MOUNT}, not at ${path}`, 404),
        );
      }
      answer(req, res).catch((err: unknown) => {
        // Only answering itself can fail here (the connection went away mid-answer): nothing is left to tell.
        options.log.error({ err }, 'EC2 front: the answer could not be sent');
        res.destroy();
      });
    });
  };
}
