/**
 * The operations engine: every provider call that finishes later is an Operation, run as a command
 * of named steps, persisted after each step, and resumed from the first unfinished step after a
 * crash or restart. Steps must be safe to run again (creates carry the operation id as client token).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Counter, Gauge } from 'prom-client';
import { SkygateError, conflict, toSkygateError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Operation, OperationStep } from '../model.js';
import type { CloudAdapter } from '../ports.js';
import type { ProviderRegistry } from '../registry.js';
import type { InventoryService } from '../services/inventory.js';
import type { OperationQuery, Store } from '../store-port.js';
import { Semaphore } from './semaphore.js';

export interface StepContext {
  readonly op: Operation;
  /** The adapter of the operation's provider. */
  readonly adapter: CloudAdapter;
  /** Every provider, for commands that span clouds (replication, failover). */
  readonly registry: ProviderRegistry;
  readonly inventory: InventoryService;
  readonly events: EventBus;
  /**
   * Shows what a long step is doing now (`detail` of the running step), persisted; `fraction` (0..1)
   * of the step done moves the operation's progress within the step's share.
   */
  report(detail: string, fraction?: number): Promise<void>;
}

export interface Step {
  name: string;
  run(ctx: StepContext): Promise<void>;
}

/** A command object: a kind of operation and its steps, in order. */
export interface CommandDefinition {
  kind: string;
  steps: Step[];
  /** What the finished operation answers, from the state its steps left. */
  result(op: Operation): Record<string, unknown>;
}

export interface SubmitRequest {
  kind: string;
  provider: string;
  target?: string;
  input: Record<string, unknown>;
  /** State known before the first step (e.g. the native id an action acts on). */
  state?: Record<string, unknown>;
  /** Who asks, and the idempotency key they sent, if any. */
  caller?: CallerContext;
}

/**
 * Who asks for an operation. A retry with the same idempotency key (same principal) answers the first
 * operation; the same key with a different request (kind, target and input) is refused. The engine alone
 * decides what "the same request" is.
 */
export interface CallerContext {
  /** Who asks (token id); idempotency keys are scoped to it. */
  principal: string;
  idempotencyKey?: string;
}

/** What makes two submissions "the same request" for an idempotency key. */
export const requestHash = (req: Pick<SubmitRequest, 'kind' | 'target' | 'input'>): string =>
  createHash('sha256')
    .update(JSON.stringify([req.kind, { target: req.target, input: req.input }]))
    .digest('hex');

export interface EngineOptions {
  /** Operations running at once against one provider; the rest queue. */
  concurrencyPerProvider: number;
}

const operationsTotal = new Counter({
  name: 'skygate_operations_total',
  help: 'Finished operations by kind and status',
  labelNames: ['kind', 'status'],
});
const operationsRunning = new Gauge({ name: 'skygate_operations_running', help: 'Operations running now' });

/**
 * TEST HOOK, off unless this variable names a step as `kind/step` (e.g. `instance.create/request`): the process
 * kills itself (SIGKILL) right after that step's work returns and before the engine records it, the one moment a
 * crash makes the restarted gateway repeat a step that already reached the cloud. Only crash-recovery tests set it.
 */
export const TEST_CRASH_AFTER_STEP = 'SKYGATE_TEST_CRASH_AFTER_STEP';

export class OperationEngine {
  private readonly commands = new Map<string, CommandDefinition>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly slots = new Map<string, Semaphore>();
  /** Emits an operation's id each time it is saved, so `waitFor` wakes without polling the store. */
  private readonly saved = new EventEmitter().setMaxListeners(0);
  private readonly crashAfterStep = process.env[TEST_CRASH_AFTER_STEP];

  constructor(
    private readonly store: Store,
    private readonly registry: ProviderRegistry,
    private readonly inventory: InventoryService,
    private readonly events: EventBus,
    private readonly log: { error(obj: object, msg?: string): void; info(obj: object, msg?: string): void },
    private readonly options: EngineOptions = { concurrencyPerProvider: 32 },
  ) {}

  register(...defs: CommandDefinition[]): void {
    for (const def of defs) this.commands.set(def.kind, def);
  }

  /**
   * Persists a new operation and starts it. With an idempotency key already used by this principal,
   * answers the first operation instead (and refuses the key for a different request).
   */
  async submit(req: SubmitRequest): Promise<{ operation: Operation; created: boolean }> {
    const def = this.command(req.kind);
    const now = new Date().toISOString();
    const op: Operation = {
      id: `op-${randomUUID()}`,
      kind: req.kind,
      status: 'pending',
      progress: 0,
      provider: req.provider,
      ...(req.target !== undefined && { target: req.target }),
      input: req.input,
      steps: def.steps.map((s) => ({ name: s.name, status: 'pending' })),
      state: req.state ?? {},
      ...(req.caller?.idempotencyKey !== undefined && { idempotencyKey: req.caller.idempotencyKey }),
      ...(req.caller !== undefined && { createdBy: req.caller.principal }),
      createdAt: now,
      updatedAt: now,
      attempts: 0,
    };
    const idem = req.caller?.idempotencyKey !== undefined && {
      principal: req.caller.principal,
      key: req.caller.idempotencyKey,
      requestHash: requestHash(req),
    };
    const { operation, created, requestHash: firstHash } = await this.store.insertOperation(op, idem || undefined);
    if (!created && idem && firstHash !== idem.requestHash) {
      throw conflict(`Idempotency-Key '${idem.key}' was already used for a different request`, 'header.idempotency-key');
    }
    if (created) {
      await this.events.emit('operation.created', operation.id, { kind: operation.kind, provider: operation.provider });
      this.start(operation);
    }
    return { operation, created };
  }

  /** `submit` for services that answer the operation alone (first or new, as the idempotency key says). */
  async operation(req: SubmitRequest): Promise<Operation> {
    return (await this.submit(req)).operation;
  }

  get(id: string): Promise<Operation | undefined> {
    return this.store.getOperation(id);
  }

  list(q: OperationQuery): Promise<Operation[]> {
    return this.store.listOperations(q);
  }

  /**
   * Resolves with operation `id` once `until` holds for it or it has finished, or as it is after
   * `timeoutMs`: the one wait every front uses (a create's new id for EC2, a copy's result...). Wakes on
   * this process's saves and, for operations another process runs, polls the store now and then.
   */
  async waitFor(id: string, until: (op: Operation) => boolean, timeoutMs: number): Promise<Operation | undefined> {
    const deadline = Date.now() + timeoutMs;
    const done = (op: Operation | undefined) =>
      !op || op.status === 'succeeded' || op.status === 'failed' || until(op) || Date.now() >= deadline;
    for (;;) {
      let wake: () => void = () => undefined;
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const onSave = (savedId: string) => savedId === id && wake();
      this.saved.on('saved', onSave);
      try {
        const op = await this.store.getOperation(id);
        if (done(op)) return op;
        const timer = setTimeout(wake, Math.min(500, Math.max(0, deadline - Date.now())));
        await woken;
        clearTimeout(timer);
      } finally {
        this.saved.off('saved', onSave);
      }
    }
  }

  /** Picks up what a previous process left unfinished; answers how many were resumed. */
  async resumeUnfinished(): Promise<number> {
    const ops = await this.store.unfinishedOperations();
    for (const op of ops) {
      if (this.running.has(op.id)) continue;
      this.log.info({ operation: op.id, kind: op.kind, attempts: op.attempts }, 'resuming operation');
      this.start(op);
    }
    return ops.length;
  }

  /** Resolves when every operation started so far has finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private command(kind: string): CommandDefinition {
    const def = this.commands.get(kind);
    if (!def) throw new SkygateError('internal', `no command registered for operation kind '${kind}'`);
    return def;
  }

  private start(op: Operation): void {
    const provider = op.provider ?? '';
    let slot = this.slots.get(provider);
    if (!slot) {
      slot = new Semaphore(this.options.concurrencyPerProvider);
      this.slots.set(provider, slot);
    }
    const run = slot
      .use(() => this.execute(op))
      .catch((e) => this.log.error({ err: e, operation: op.id }, 'operation runner crashed'))
      .finally(() => this.running.delete(op.id));
    this.running.set(op.id, run);
  }

  private async execute(op: Operation): Promise<void> {
    operationsRunning.inc();
    try {
      op.status = 'running';
      op.attempts += 1;
      await this.save(op);
      const def = this.command(op.kind);
      const adapter = this.registry.cloud(op.provider ?? '', 'provider');
      for (const [i, step] of def.steps.entries()) {
        const record = op.steps[i] as OperationStep;
        if (record.status === 'succeeded' || record.status === 'skipped') continue;
        record.status = 'running';
        record.startedAt = new Date().toISOString();
        await this.save(op);
        const ctx: StepContext = {
          op,
          adapter,
          registry: this.registry,
          inventory: this.inventory,
          events: this.events,
          report: async (detail, fraction) => {
            record.detail = detail;
            if (fraction !== undefined) {
              const share = 100 / def.steps.length;
              op.progress = Math.min(99, Math.round(share * i + share * Math.max(0, Math.min(1, fraction))));
            }
            await this.save(op);
          },
        };
        try {
          await step.run(ctx);
        } catch (e) {
          record.status = 'failed';
          record.finishedAt = new Date().toISOString();
          return await this.finish(op, toSkygateError(e, op.provider));
        }
        if (this.crashAfterStep === `${op.kind}/${step.name}`) process.kill(process.pid, 'SIGKILL');
        record.status = 'succeeded';
        record.finishedAt = new Date().toISOString();
        op.progress = Math.round((100 * (i + 1)) / def.steps.length);
        await this.save(op);
      }
      op.result = def.result(op);
      await this.finish(op);
    } catch (e) {
      await this.finish(op, toSkygateError(e, op.provider));
    } finally {
      operationsRunning.dec();
    }
  }

  private async finish(op: Operation, error?: SkygateError): Promise<void> {
    op.status = error ? 'failed' : 'succeeded';
    if (error) op.error = error.toJSON();
    else op.progress = 100;
    await this.save(op);
    operationsTotal.inc({ kind: op.kind, status: op.status });
    if (error) this.log.info({ operation: op.id, kind: op.kind, provider: op.provider, err: error.toJSON() }, 'operation failed');
    await this.events.emit(`operation.${op.status}`, op.id, {
      kind: op.kind,
      provider: op.provider,
      target: op.target,
      ...(error && { error: error.toJSON() }),
    });
  }

  private async save(op: Operation): Promise<void> {
    op.updatedAt = new Date().toISOString();
    await this.store.updateOperation(op);
    this.saved.emit('saved', op.id);
  }
}
