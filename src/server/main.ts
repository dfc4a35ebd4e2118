/** `npm start`: runs the gateway until SIGINT/SIGTERM. */
import { pino } from 'pino';
import { isSkygateError } from '../core/errors.js';
import { loadConfig } from './config.js';
import { createGateway } from './gateway.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  const gateway = await createGateway(config, log);
  const { url } = await gateway.listen();
  log.info(
    { url, providers: config.providers.map((p) => p.id), dataDir: config.dataDir, store: gateway.internals.store.dialect },
    'skygate is serving',
  );
  if (gateway.adminTokenFile) {
    // Printed plainly (not only as JSON log) because a newcomer needs it to make the first call.
    process.stdout.write(
      `\nAdmin token written to ${gateway.adminTokenFile} (mode 0600).\nTry: curl -H "Authorization: Bearer $(cat ${gateway.adminTokenFile})" ${url}/v1/providers\n\n`,
    );
  }
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: unknown) => {
  const message = isSkygateError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`skygate failed to start: ${message}\n`);
  process.exit(1);
});
