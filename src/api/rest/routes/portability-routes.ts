/** Image portability over REST: export to OVA (and download it, with Range), import by upload or URL, replicate. */
import { PassThrough } from 'node:stream';
import type { Request, Response, Router } from 'express';
import { SkygateError, invalid } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import type { ExportRequest, ImportRequest, ReplicateRequest } from '../../../portability/portability-service.js';
import { bodyAbortSignal } from '../../http-body.js';
import { caller, route, sendAccepted, validated } from '../http.js';
import { problemBody } from '../problem.js';

const UPLOAD_QUERY = ['provider', 'name', 'diskFormat'] as const;

export function portabilityRoutes(router: Router, core: CoreServices): void {
  const { portability } = core;

  router.post(
    '/images/import',
    route(async (req, res) => {
      const q = validated(res).query;
      if (req.is('application/json')) {
        const stray = UPLOAD_QUERY.find((k) => q[k] !== undefined);
        if (stray) throw invalid(`query.${stray}`, 'is for uploads; a URL import takes it in the body');
        return sendAccepted(res, await portability.importFromUrl(req.body as ImportRequest & { url: string }, caller(req, res)));
      }
      if (q.provider === undefined) throw invalid('query.provider', 'is required with an uploaded package');
      const params = { ...q } as unknown as ImportRequest;
      const length = req.get('content-length') === undefined ? undefined : Number(req.get('content-length'));
      // Piped rather than handed over, so a refused upload never destroys the socket the answer goes out on.
      const body = new PassThrough();
      req.pipe(body);
      // A pipe passes no error on: a body that stops half way must fail the import now, and say why,
      // or the import waits for ever and keeps its scratch directory.
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      const abort = (why: string) =>
        body.destroy(invalid('body', `the upload stopped after ${received} of ${length ?? 'unknown'} bytes: ${why}`));
      const signal = bodyAbortSignal(res);
      signal.addEventListener('abort', () => abort(String(signal.reason)), { once: true });
      req.once('close', () => {
        if (!req.complete) abort('the client closed the connection');
      });
      try {
        sendAccepted(res, await portability.importUpload(params, body, length, caller(req, res)));
      } catch (e) {
        req.unpipe(body);
        req.resume();
        // The rest of a refused upload is not worth reading: close the connection once answered.
        res.setHeader('Connection', 'close');
        throw e;
      }
    }),
  );

  router.post(
    '/images/:id/export',
    route(async (req, res) =>
      sendAccepted(
        res,
        await portability.exportImage(String(req.params.id), (req.body ?? {}) as ExportRequest, caller(req, res)),
      ),
    ),
  );

  router.get(
    '/images/:id/export/:operationId/ova',
    route(async (req, res) => {
      const file = await portability.exportedFile(String(req.params.id), String(req.params.operationId));
      await sendOva(req, res, file);
    }),
  );

  router.post(
    '/images/:id/replicate',
    route(async (req, res) =>
      sendAccepted(res, await portability.replicateImage(String(req.params.id), req.body as ReplicateRequest, caller(req, res))),
    ),
  );
}

/** Serves the OVA with express's file sender (Range, 206, conditional requests); an unsatisfiable range is a 416 problem. */
function sendOva(req: Request, res: Response, file: { path: string; fileName: string; sizeBytes: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    res.attachment(file.fileName);
    res.sendFile(
      file.path,
      { headers: { 'Content-Type': 'application/x-tar' }, dotfiles: 'allow' },
      (err?: Error & { status?: number }) => {
        if (!err) return resolve();
        if (err.status === 416 && !res.headersSent) {
          const problem = problemBody(
            invalid('header.range', `'${req.get('range')}' lies outside the ${file.sizeBytes}-byte OVA`),
            req.originalUrl,
          );
          res.status(416).setHeader('Content-Range', `bytes */${file.sizeBytes}`);
          res.type('application/problem+json').send(JSON.stringify({ ...problem, status: 416 }));
          return resolve();
        }
        // The client went away mid-download: nothing to answer.
        if (res.headersSent) return resolve();
        reject(err.status === 404 ? new SkygateError('not_found', 'the OVA file is gone', { field: 'path.operationId' }) : err);
      },
    );
  });
}
