/** The composition root: wires store, providers, core services and fronts into one gateway. */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import { pino, type Logger } from 'pino';
import { EventBus } from '../core/events.js';
import { OperationEngine } from '../core/operations/engine.js';
import { resourceCommands } from '../core/operations/resource-commands.js';
import { ProviderRegistry } from '../core/registry.js';
import {
  AccessKeyService,
  AuthService,
  InstanceAttributeService,
  InventoryService,
  KeyPairService,
  NetworkService,
  ResourceService,
  SecretBox,
  type CoreServices,
} from '../core/services/index.js';
import { createPortability } from '../portability/index.js';
import { openStore } from '../store/index.js';
import { loadAdapter } from './adapter-loader.js';
import type { GatewayConfig } from './config.js';
import { createHttpApp } from './http-app.js';

export interface Gateway {
  config: GatewayConfig;
  core: CoreServices;
  app: express.Express;
  log: Logger;
  /** Set when this start generated the bootstrap admin token. */
  adminTokenFile?: string;
  listen(): Promise<{ server: Server; url: string }>;
  close(): Promise<void>;
}

export async function createGateway(config: GatewayConfig, log: Logger = pino({ level: config.logLevel })): Promise<Gateway> {
  await mkdir(config.dataDir, { recursive: true });
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const registry = new ProviderRegistry(config.providers, loadAdapter, config.dataDir, log, config.adapterCalls);
  await registry.init();
  const inventory = new InventoryService(store, registry, config.inventory);
  await inventory.init();
  const events = new EventBus(store);
  const engine = new OperationEngine(store, registry, inventory, events, log, config.operations);
  engine.register(...resourceCommands);
  const portability = createPortability({ dataDir: config.dataDir, config: config.portability, registry, inventory, engine });
  engine.register(...portability.commands);
  await portability.service.init();
  const auth = new AuthService(store);
  const adminTokenFile = await auth.bootstrap(config.dataDir, config.adminToken);
  const instanceAttributes = new InstanceAttributeService(store);
  const core: CoreServices = {
    store,
    registry,
    inventory,
    engine,
    events,
    auth,
    resources: new ResourceService(registry, inventory, engine, instanceAttributes),
    accessKeys: new AccessKeyService(store, await SecretBox.open(config.dataDir, config.secretKey)),
    instanceAttributes,
    keyPairs: new KeyPairService(store, registry),
    network: new NetworkService(registry),
    portability: portability.service,
  };

  const app = createHttpApp(core, { bodyLimitBytes: config.bodyLimitBytes, log });

  let server: Server | undefined;
  return {
    config,
    core,
    app,
    log,
    adminTokenFile,
    async listen() {
      const s = app.listen(config.port, config.host);
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
      return { server: s, url: `http://${config.host}:${port}` };
    },
    async close() {
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      // Running operations are not awaited: they are durable and the next start resumes them.
      await registry.close();
      await store.close();
    },
  };
}
