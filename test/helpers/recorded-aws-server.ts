/** A tiny AWS Query API stand-in on 127.0.0.1 that answers each Action with a recorded response file. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface RecordedAnswer {
  /** A file under the fixture directory. */
  file: string;
  /** HTTP status; 200 unless told. */
  status?: number;
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  action: string;
  params: URLSearchParams;
  authorization: string | undefined;
}

/** Picks the answer for one request; `undefined` answers an AWS-style error naming the unexpected Action. */
export type Route = (action: string, params: URLSearchParams) => RecordedAnswer | undefined;

export interface RecordedServer {
  url: string;
  requests: RecordedRequest[];
  /** The requests of one Action, in order. */
  of(action: string): URLSearchParams[];
  close(): Promise<void>;
}

export async function startRecordedServer(dir: string, route: Route): Promise<RecordedServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = params.get('Action') ?? '';
      requests.push({ action, params, authorization: req.headers.authorization });
      const answer = route(action, params);
      if (answer === undefined) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          `<Response><Errors><Error><Code>InvalidAction</Code><Message>no recorded response for Action=${action}</Message></Error></Errors><RequestID>none</RequestID></Response>`,
        );
        return;
      }
      const body = readFileSync(path.join(dir, answer.file), 'utf8');
      // AWS sends the request id as a header as well as in the body; the SDK reads the header.
      const requestId = /<(?:requestId|RequestID|RequestId)>([^<]+)</.exec(body)?.[1];
      res.writeHead(answer.status ?? 200, {
        'content-type': answer.file.endsWith('.html') ? 'text/html' : 'text/xml;charset=UTF-8',
        ...(requestId !== undefined && { 'x-amzn-RequestId': requestId }),
        ...answer.headers,
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    of: (action) => requests.filter((r) => r.action === action).map((r) => r.params),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An AWS provider (`aws-rec`, eu-west-1) whose EC2 endpoint is a recorded server: for gateways that must hold one. */
export const recordedAwsProvider = (endpoint: string) => ({
  id: 'aws-rec',
  type: 'aws',
  settings: {
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  },
});
