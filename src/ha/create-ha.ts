/**
 * The HA module's composition: the load balancer reconcile loop, this controller's group leases, the controller and
 * the commands it runs, built from the core's parts. The gateway registers the commands before it resumes
 * operations (a failover cut short by a crash resumes) and starts the loops once it listens.
 */
import type { EventBus } from '../core/events.js';
import type { CommandDefinition, OperationEngine } from '../core/operations/engine.js';
import type { ProviderRegistry } from '../core/registry.js';
import type { Store } from '../core/store-port.js';
import type { PortabilityService } from '../portability/portability-service.js';
import { failoverCommand } from './failover-command.js';
import { GroupLeases } from './group-leases.js';
import type { HaConfig } from './ha-config.js';
import { HaController } from './ha-controller.js';
import { LbReconciler } from './lb-reconciler.js';
import { createReplication, type Replication } from './replication.js';

export interface HaDeps {
  store: Store;
  registry: ProviderRegistry;
  engine: OperationEngine;
  events: EventBus;
  /** Moves replica images between clouds (native copy or OVA). */
  portability: Pick<PortabilityService, 'replicateImage'>;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  config: HaConfig;
}

export interface Ha {
  reconciler: LbReconciler;
  leases: GroupLeases;
  controller: HaController;
  replication: Replication;
  commands: CommandDefinition[];
  /** Starts the reconcile loop and the controller (unless `ha.enabled` is false). */
  start(): void;
  stop(): Promise<void>;
}

export function createHa(deps: HaDeps): Ha {
  const { store, registry, engine, events, log, config, portability } = deps;
  const reconciler = new LbReconciler(
    { store, loadBalancer: (id) => registry.loadBalancer(id, 'traffic.lbProvider'), log, events },
    { intervalMs: config.lbReconcileIntervalMs },
  );
  const leases = new GroupLeases(store, config.controllerId, config.leaseTtlMs);
  // Each needs the other only once running: the scheduler keeps the groups the controller holds, and the
  // controller's (and the API's) replicate is the scheduler's replicate-now.
  const controller: HaController = new HaController({
    store,
    engine,
    registry,
    events,
    reconciler,
    leases,
    config,
    log,
    replicate: (groupId, caller) => replication.replicate(groupId, caller),
  });
  const replication = createReplication({
    store,
    engine,
    events,
    portability,
    leases,
    groups: async () => controller.heldGroups(),
    log,
  });
  return {
    reconciler,
    leases,
    controller,
    replication,
    commands: [failoverCommand({ store, leases, reconciler, config }), replication.command],
    start() {
      if (!config.enabled) return;
      reconciler.start();
      controller.start();
      if (config.scheduleReplication) replication.scheduler.start();
    },
    async stop() {
      await replication.scheduler.stop();
      await controller.stop();
      await reconciler.stop();
    },
  };
}
