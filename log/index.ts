// log/: the op format, clock, identities, SQL adapters, the op log and the chunk store.
export { assert, AssertionError } from './assert.ts';
export * from './limits.ts';
export * from './ids.ts';
export * from './hlc.ts';
export * from './op.ts';
export * from './manifest.ts';
export { encodeOp, decodeOp, checkOp, mapRefs, OpFormatError, OP_FORMAT } from './codec.ts';
export * from './cursor.ts';
export { checkCheckpoint, CheckpointError, pagesDigest, stableCut, type Checkpoint, type CutSource } from './checkpoint.ts';
export { ensureSchema, type SqlAdapter, type SqlStatement, type SqlValue, type SqlRow } from './sql.ts';
export { NodeSqlite, openSqlite } from './sqlite-node.ts';
export { openStoreFile, StoreFileError } from './store-file.ts';
export { LogStore, GapError, type StoredOp } from './log-store.ts';
export { ChunkStore, ChunkHashError, MissingChunkError, sha256, hex } from './chunk-store.ts';
export { BulkWriter } from './bulk.ts';
