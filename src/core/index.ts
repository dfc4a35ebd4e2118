/**
 * The core's public face: what fronts (REST, EC2, OCCI), the server and adapters import. Fronts reach
 * the core through the services bundle (`CoreServices`), never the store, the registry or the engine.
 */
export * from './errors.js';
export * from './ids.js';
export * from './model.js';
export * from './ports.js';
export * from './store-port.js';
export * from './flavor-match.js';
export type { CoreServices } from './services/index.js';
export type { CreatedNetwork } from './services/network-service.js';
export { MAX_LAUNCH_COUNT, type LaunchRequest } from './services/launch-service.js';
export type { CallerContext } from './operations/engine.js';
export * from './tag-policy.js';
export * from './name-policy.js';
export * from './network-plan.js';
export * from './device-policy.js';
export { operationFor, redactSecrets, redactUrl, REDACTED } from './redaction.js';
