/** Which action is legal in which state: the core decides, so every front refuses the same things. */
import { conflict } from './errors.js';

const ALLOWED: Record<string, Record<string, string[]>> = {
  instance: {
    // Repeating a start or stop is harmless (as on EC2); the rest would be refused by a real cloud.
    // A start resumes a suspended instance.
    start: ['stopped', 'suspended', 'running', 'pending'],
    stop: ['running', 'pending', 'stopping', 'stopped', 'rebooting'],
    reboot: ['running', 'rebooting'],
    suspend: ['running', 'suspending', 'suspended'],
    delete: [
      'pending',
      'running',
      'stopping',
      'stopped',
      'rebooting',
      'suspending',
      'suspended',
      'error',
      'terminating',
      'terminated',
    ],
    snapshot: ['running', 'stopped'],
    attach: ['running', 'stopped'],
  },
  volume: {
    attach: ['available'],
    detach: ['in-use'],
    delete: ['available', 'error'],
    snapshot: ['available', 'in-use'],
  },
};

/** Throws a conflict naming the resource, its state and the states that would allow `action`. */
export function assertActionAllowed(
  kind: 'instance' | 'volume',
  action: string,
  resource: { id: string; state: string },
  field: string,
): void {
  const allowed = ALLOWED[kind]?.[action] ?? [];
  if (!allowed.includes(resource.state)) {
    throw conflict(
      `cannot ${action} ${kind} '${resource.id}' while it is ${resource.state} (allowed when ${allowed.join(', ')})`,
      field,
    );
  }
}

/** The state a resource shows as soon as `action` is accepted (as EC2 answers it), before the provider moves it. */
const TRANSITION: Record<string, Record<string, Record<string, string>>> = {
  instance: {
    start: { stopped: 'pending', suspended: 'pending' },
    stop: { running: 'stopping', pending: 'stopping', rebooting: 'stopping' },
    reboot: { running: 'rebooting' },
    suspend: { running: 'suspending' },
    delete: {
      pending: 'terminating',
      running: 'terminating',
      stopping: 'terminating',
      stopped: 'terminating',
      rebooting: 'terminating',
      suspending: 'terminating',
      suspended: 'terminating',
      error: 'terminating',
    },
  },
  volume: {
    // No mark for attach: some clouds (nova) accept it before the volume is even reserved, and a volume shown
    // as attaching (EC2's in-use) would let a client detach what the cloud still reports as available.
    detach: { 'in-use': 'detaching' },
    delete: { available: 'deleting', error: 'deleting' },
  },
};

export function transitionOf(kind: 'instance' | 'volume', action: string, state: string): string | undefined {
  return TRANSITION[kind]?.[action]?.[state];
}
