/** `npm start`: runs the gateway until SIGINT/SIGTERM. */
import { pino } from 'pino';
import { isSkygateError } from '../core/errors.js';
import { loadConfig } from './config.js';
import { createGateway } from './gateway.js';

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 10_000;

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
  // `npm start` execs this process (no shell in between), so npm hands a SIGTERM it gets straight to it. A close
  // that hangs (a provider or database that does not answer) must not keep a stopped gateway alive: exit after a
  // deadline. Operations still running are durable; the next start resumes them.
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal while shutting down; exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ signal, afterMs: STOP_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    await gateway.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal));
}

main().catch((e: unknown) => {
  const message = isSkygateError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`skygate failed to start: ${message}\n`);
  process.exit(1);
});
