/** The composition root: wires store, providers, core services and fronts into one gateway. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { EventBus } from '../core/events.js';
import { OperationEngine } from '../core/operations/engine.js';
import { launchCommand } from '../core/operations/launch-command.js';
import { resourceCommands } from '../core/operations/resource-commands.js';
import { ProviderRegistry } from '../core/registry.js';
import {
  AccessKeyService,
  AuthService,
  InstanceAttributeService,
  InventoryService,
  KeyPairService,
  LaunchService,
  NetworkService,
  OperationService,
  ProviderService,
  ResourceService,
  SecretBox,
  type CoreServices,
} from '../core/services/index.js';
import { registryLookups } from '../ha/group-lookups.js';
import { ProtectionGroupService } from '../ha/protection-group-service.js';
import { createPortability } from '../portability/index.js';
import { createHa, type Ha } from '../ha/create-ha.js';
import { loadHaConfig } from '../ha/ha-config.js';
import { openStore, privateDir } from '../store/index.js';
import type { Store } from '../core/store-port.js';
import { loadAdapter } from './adapter-loader.js';
import type { GatewayConfig } from './config.js';
import { createHttpApp } from './http-app.js';

export interface Gateway {
  config: GatewayConfig;
  core: CoreServices;
  /** What only the composition root, probes and tests reach: fronts get `core`. */
  internals: { store: Store; registry: ProviderRegistry; engine: OperationEngine; events: EventBus; ha: Ha };
  /** The server's request listener (every front). */
  app: RequestListener;
  log: Logger;
  /** Set when this start generated the bootstrap admin token. */
  adminTokenFile?: string;
  listen(): Promise<{ server: Server; url: string }>;
  close(): Promise<void>;
}

export async function createGateway(config: GatewayConfig, log: Logger = pino({ level: config.logLevel })): Promise<Gateway> {
  await privateDir(config.dataDir);
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const registry = new ProviderRegistry(config.providers, loadAdapter, config.dataDir, log, config.adapterCalls);
  await registry.init();
  const inventory = new InventoryService(store, registry, config.inventory);
  await inventory.init();
  const events = new EventBus(store);
  const engine = new OperationEngine(store, registry, inventory, events, log, config.operations);
  const instanceAttributes = new InstanceAttributeService(store);
  engine.register(
    ...resourceCommands,
    launchCommand((id, attributes) => instanceAttributes.recordLaunch(id, attributes)),
  );
  const portability = createPortability({ dataDir: config.dataDir, config: config.portability, registry, inventory, engine });
  engine.register(...portability.commands);
  await portability.service.init();
  const ha = createHa({
    store,
    registry,
    engine,
    events,
    log,
    portability: portability.service,
    config: config.ha ?? loadHaConfig({}, {}, config.dataDir),
  });
  engine.register(...ha.commands);
  const auth = new AuthService(store, events, { throttle: config.authThrottle });
  const adminTokenFile = await auth.bootstrap(config.dataDir, config.adminToken);
  const keyPairs = new KeyPairService(store, registry, events);
  const network = new NetworkService(registry, events);
  const protection = new ProtectionGroupService({
    store,
    lookups: registryLookups(registry, inventory),
    reconciler: ha.reconciler,
    actions: ha.controller,
    events,
  });
  const core: CoreServices = {
    providers: new ProviderService(registry, events),
    inventory,
    operations: new OperationService(engine),
    events,
    auth,
    launches: new LaunchService(registry, inventory, engine, keyPairs, network),
    resources: new ResourceService(registry, inventory, engine, events, instanceAttributes),
    accessKeys: new AccessKeyService(store, await SecretBox.open(config.dataDir, config.secretKey), events),
    instanceAttributes,
    keyPairs,
    network,
    portability: portability.service,
    protection,
    idAliases: store,
  };

  const app = createHttpApp(
    core,
    { store, registry },
    { bodyLimitBytes: config.bodyLimitBytes, bodyTimeouts: config.bodyTimeouts, log },
  );

  let server: Server | undefined;
  return {
    config,
    core,
    internals: { store, registry, engine, events, ha },
    app,
    log,
    adminTokenFile,
    async listen() {
      const s = createServer(app).listen(config.port, config.host);
      // Body deadlines are per route (body-timeouts.ts): Node's single total limit would cut a slow but
      // live upload with a bare 408. Its header deadline (headersTimeout) stays.
      s.requestTimeout = 0;
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('listening', resolve);
        s.once('error', reject);
      });
      const { port } = s.address() as AddressInfo;
      portability.setSelfPort(port);
      // Resume after listening: /healthz answers while old operations catch up.
      const resumed = await engine.resumeUnfinished();
      if (resumed > 0) log.info({ resumed }, 'resumed unfinished operations');
      ha.start();
      return { server: s, url: `http://${config.host}:${port}` };
    },
    async close() {
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      // Running operations are not awaited: they are durable and the next start resumes them.
      await ha.stop();
      await registry.close();
      await store.close();
    },
  };
}
