// client/: keeping a store in step with a peer replica over the sync protocol.
export { syncOnce, SyncClient, type SyncResult, type SyncState } from './sync.ts';
