/** Operations as fronts see them: read one, list them, wait for one to reach a point. */
import { decodeCursor, encodeCursor } from '../cursor.js';
import { SkygateError, invalid } from '../errors.js';
import type { Operation, Page } from '../model.js';
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

  /**
   * One page of operations, newest first. `cursor` is a `nextCursor` of this listing with the same filters;
   * any other is refused naming `query.cursor`.
   */
  async page(q: Omit<OperationQuery, 'after'> & { cursor?: string }): Promise<Page<Operation>> {
    const { cursor, limit, ...filters } = q;
    let after: string | undefined;
    if (cursor !== undefined) {
      after = decodeCursor(cursor, 'operations', filters);
      if (!(await this.engine.get(after))) {
        throw invalid('query.cursor', 'continues after an operation that no longer exists; start again without a cursor');
      }
    }
    const ops = await this.engine.list({ ...filters, limit: limit + 1, ...(after !== undefined && { after }) });
    const items = ops.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      ...(ops.length > limit && last && { nextCursor: encodeCursor('operations', filters, last.id) }),
    };
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
