/** Operations as fronts see them: read one, list them, wait for one to reach a point. */
import { SkygateError } from '../errors.js';
import type { Operation } from '../model.js';
import type { OperationEngine } from '../operations/engine.js';
import type { OperationQuery } from '../store-port.js';

export class OperationService {
  constructor(private readonly engine: OperationEngine) {}

  async get(id: string, field = 'path.id'): Promise<Operation> {
    const op = await this.engine.get(id);
    if (!op) throw new SkygateError('not_found', `operation '${id}' does not exist`, { field });
    return op;
  }

  list(q: OperationQuery): Promise<Operation[]> {
    return this.engine.list(q);
  }

  /** See OperationEngine.waitFor: the one wait every front uses. */
  waitFor(id: string, until: (op: Operation) => boolean, timeoutMs: number): Promise<Operation | undefined> {
    return this.engine.waitFor(id, until, timeoutMs);
  }

  /** Waits until operation `id` has finished (at most `timeoutMs`); answers it as it is then. */
  finished(id: string, timeoutMs: number): Promise<Operation | undefined> {
    return this.engine.waitFor(id, () => false, timeoutMs);
  }
}
