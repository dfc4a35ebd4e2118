/**
 * Raw EC2 Query requests signed with the AWS SDK's own SigV4 signer, for tests that need the XML as
 * sent or requests an SDK would never send (stale, tampered, wrong version, malformed filters).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Ec2Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RawEc2Options {
  region?: string;
  /** Sign as of this time (stale-request tests). */
  signingDate?: Date;
  /** Send without an Authorization header. */
  unsigned?: boolean;
  /** Put the parameters in the query string of a GET instead of a POST body. */
  method?: 'GET' | 'POST';
  /** Changes the body after signing (tamper tests). */
  tamper?: (body: string) => string;
  /** Sign a pre-signed URL (X-Amz-* in the query) instead of an Authorization header; GET only. */
  presign?: boolean;
}

export interface RawEc2Response {
  status: number;
  text: string;
  /** The EC2 error code, when the answer is an error document. */
  code?: string;
  message?: string;
}

type Signable = Parameters<SignatureV4['sign']>[0];

export async function rawEc2(
  baseUrl: string,
  creds: Ec2Credentials,
  params: Record<string, string>,
  opts: RawEc2Options = {},
): Promise<RawEc2Response> {
  const url = new URL(`${baseUrl}/ec2`);
  const method = opts.method ?? 'POST';
  const body = method === 'POST' ? new URLSearchParams(params).toString() : '';
  const signer = new SignatureV4({
    credentials: creds,
    region: opts.region ?? 'sim-east',
    service: 'ec2',
    sha256: Sha256,
  });
  const request = {
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: method === 'GET' ? { ...params } : {},
    headers: {
      host: url.host,
      ...(method === 'POST' && { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }),
    },
    ...(method === 'POST' && { body }),
  } as Signable;
  let headers: Record<string, string> = request.headers;
  let query: Record<string, string> = request.query as Record<string, string>;
  if (opts.presign) {
    const signed = await signer.presign(request, { signingDate: opts.signingDate ?? new Date(), expiresIn: 300 });
    headers = signed.headers;
    query = signed.query as Record<string, string>;
  } else if (!opts.unsigned) {
    const signed = await signer.sign(request, { signingDate: opts.signingDate ?? new Date() });
    headers = signed.headers;
  }
  const search = new URLSearchParams(query).toString();
  const { host: _host, ...sendHeaders } = headers;
  const res = await fetch(`${url.origin}${url.pathname}${search ? `?${search}` : ''}`, {
    method,
    headers: sendHeaders,
    ...(method === 'POST' && { body: opts.tamper ? opts.tamper(body) : body }),
  });
  const text = await res.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return { status: res.status, text, ...(code !== undefined && { code }), ...(message !== undefined && { message }) };
}
