/** HAProxy's runtime API: one command per connection on the stats socket, its text answer, its failures in the taxonomy. */
import { connect } from 'node:net';
import { SkygateError } from '../../src/core/index.js';
import { describeEndpoint, type SocketEndpoint } from './haproxy-settings.js';

export class RuntimeApi {
  constructor(
    private readonly providerId: string,
    private readonly endpoint: SocketEndpoint,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Sends one command and answers HAProxy's text, trimmed. In non-interactive mode HAProxy closes the connection after
   * answering, which is how the end of an answer is known. Refused, missing or hung sockets become
   * `provider_unavailable` or `timeout`, both retryable: HAProxy may be restarting.
   */
  run(command: string): Promise<string> {
    // The last guard against a command split in two; callers already validated every name in it.
    if (/[\n\r;]/.test(command)) {
      return Promise.reject(new SkygateError('internal', `refusing a runtime API command with a separator: ${command}`));
    }
    const where = describeEndpoint(this.endpoint);
    return new Promise((resolve, reject) => {
      const socket = connect(this.endpoint);
      const chunks: Buffer[] = [];
      socket.setTimeout(this.timeoutMs, () => {
        socket.destroy();
        reject(
          new SkygateError(
            'timeout',
            `HAProxy runtime API at ${where} did not answer '${verb(command)}' within ${this.timeoutMs} ms`,
            {
              provider: this.providerId,
            },
          ),
        );
      });
      // Not half-closed after the command: HAProxy closes the connection itself once it has answered.
      socket.on('connect', () => socket.write(`${command}\n`));
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', (err: NodeJS.ErrnoException) => reject(this.transportError(err, where)));
      socket.on('close', (hadError) => {
        if (!hadError) resolve(Buffer.concat(chunks).toString('utf8').trim());
      });
    });
  }

  private transportError(err: NodeJS.ErrnoException, where: string): SkygateError {
    if (err.code === 'EACCES') {
      return new SkygateError('forbidden', `not allowed to open the HAProxy runtime API socket ${where} (EACCES)`, {
        provider: this.providerId,
        cause: err,
      });
    }
    return new SkygateError(
      'provider_unavailable',
      `HAProxy runtime API at ${where} is not answering (${err.code ?? err.message})`,
      {
        provider: this.providerId,
        cause: err,
      },
    );
  }
}

const verb = (command: string): string => command.split(' ').slice(0, 2).join(' ');
