/** Types generated from api-spec/openapi.yaml (`npm run gen`), so handlers are held to the spec by the compiler. */
import type { Response } from 'express';
import type { components } from './openapi-types.js';

export type Schemas = components['schemas'];
export type Schema<N extends keyof Schemas> = Schemas[N];

/** Sends `body` as the documented schema `name`; a handler whose body drifts from the spec fails to compile. */
export function reply<N extends keyof Schemas>(res: Response, status: number, _name: N, body: Schema<N>): void {
  res.status(status).json(body);
}
