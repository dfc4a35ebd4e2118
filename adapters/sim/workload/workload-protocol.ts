/** What the sim adapter and its workload host process say to each other over the IPC channel (one child per provider). */

/** One instance the host should serve: its app listens on address:port and keeps its data in `disk`. */
export interface ServedInstance {
  instanceId: string;
  providerId: string;
  imageId: string;
  address: string;
  port: number;
  /** Absolute path of the instance's own disk file. */
  disk: string;
}

/** The whole desired set each time: the host converges on it, so a lost or repeated message does no harm. */
export interface SyncRequest {
  kind: 'sync';
  seq: number;
  instances: ServedInstance[];
}

export type HostReply =
  | { kind: 'ready' }
  | { kind: 'synced'; seq: number; serving: string[]; failed: Array<{ instanceId: string; error: string }> };
