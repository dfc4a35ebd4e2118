/** Image portability (OVF/OVA, DMTF DSP0243): the public surface the gateway, the CLI and other modules use. */
import path from 'node:path';
import type { CommandDefinition, OperationEngine } from '../core/operations/engine.js';
import type { ProviderRegistry } from '../core/registry.js';
import type { InventoryService } from '../core/services/inventory.js';
import type { PortabilityDeps } from './commands/common.js';
import { exportImageCommand } from './commands/export-image-command.js';
import { importImageCommand } from './commands/import-image-command.js';
import { replicateImageCommand } from './commands/replicate-image-command.js';
import type { PortabilityConfig } from './portability-config.js';
import { PortabilityService } from './portability-service.js';
import { UrlPolicy } from './url-policy.js';
import { WorkDirs } from './work-dirs.js';

export { EXPORT_KIND } from './commands/export-image-command.js';
export { IMPORT_KIND } from './commands/import-image-command.js';
export { REPLICATE_KIND, type Replica } from './commands/replicate-image-command.js';
export { loadPortabilityConfig, type PortabilityConfig } from './portability-config.js';
export { PortabilityService } from './portability-service.js';
export { parseOvf } from './ovf-parse.js';
export { buildDescriptor } from './ovf-build.js';
export { summarize, type OvfSummary } from './ovf-summary.js';
export { readOva } from './ova-read.js';

export interface Portability {
  service: PortabilityService;
  commands: CommandDefinition[];
  /** Tells the URL policy which port is the gateway's own, once it listens. */
  setSelfPort(port: number): void;
}

/** Wires the portability service and its commands for a gateway whose data lives in `dataDir`. */
export function createPortability(opts: {
  dataDir: string;
  config: PortabilityConfig;
  registry: ProviderRegistry;
  inventory: InventoryService;
  engine: OperationEngine;
}): Portability {
  let selfPort: number | undefined;
  const deps: PortabilityDeps = {
    dirs: new WorkDirs(opts.dataDir),
    exportsDir: path.join(opts.dataDir, 'exports'),
    ...(opts.config.exportDir !== undefined && { exportDir: opts.config.exportDir }),
    uploadMaxBytes: opts.config.uploadMaxBytes,
    virtualSizeMaxBytes: opts.config.virtualSizeMaxBytes,
    urlPolicy: new UrlPolicy(opts.config.urlAllowlist, () => selfPort, opts.config.urlPorts),
  };
  return {
    service: new PortabilityService(opts.registry, opts.inventory, opts.engine, deps),
    commands: [exportImageCommand(deps), importImageCommand(deps), replicateImageCommand(deps)],
    setSelfPort(port) {
      selfPort = port;
    },
  };
}
