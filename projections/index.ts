// projections/: derived tables, their merge rules, reads, and the filesystem API over them.
export { Store, hashProjections, type ConflictEvent, type StoreOptions } from './store.ts';
export { FileSystem, RENAME_EXCHANGE, RENAME_NOREPLACE, XATTR_CREATE, XATTR_REPLACE, type SetAttr, type StatFs, type Target, type View } from './filesystem.ts';
export { FsError, type FsErrorCode } from './errors.ts';
export { Reader, TYPE_BITS, type Attr, type DirEntry } from './reader.ts';
export { Projector } from './projector.ts';
export { describeActor } from './actors.ts';
export { History, openHistory, type HistoryEntry, type HistoryPage, type HistoryView } from './history.ts';
export { NodeHistory } from './node-history.ts';
export { showPath, textOf, type ChangeStatus, type DiffPage, type FileChange } from './changes.ts';
export type { Blame, BlameLine } from './blame.ts';
export { latestPosition, PositionError, resolvePosition, shortRef, timeBound, type Position } from './positions.ts';
export { buildTimeline, type Timeline, type TimelineChange, type TimelineConflict, type TimelineLane, type TimelineOp, type TimelineOptions } from './timeline.ts';
export { SELF_CONTAINED_CSP, timelinePage } from './timeline-page.ts';
export { canonicalTree, showName, type CanonicalEntry } from './canonical.ts';
export { pathText, toBytes, type PathLike } from './paths.ts';
export * as openFlags from './open-flags.ts';
export { checkpointChunks, stateDigest } from './checkpoint-state.ts';
export { PROJECTION_TABLES } from './schema.ts';
export {
  checkBytesArray, checkHash, checkVersionVector, opChunks, pageAfter, RpcInputError,
  type Hello, type Page, type SnapshotPage, type SyncPeer,
} from './sync-protocol.ts';
export {
  Workspace, WORKSPACE_CHANNEL, type EntryType, type FileInfo, type FileStat, type WorkspaceChangeEvent, type WorkspaceHome, type WorkspaceOptions,
} from './workspace.ts';
export type { BlameLine as WorkspaceBlameLine, Change } from './workspace-history.ts';
export { callTool, WORKSPACE_TOOLS, type ToolDefinition } from './workspace-tools.ts';
