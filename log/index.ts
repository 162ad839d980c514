// log/: the op format, clock, identities, the SQL adapter surface, the op log and the chunk store.
// Nothing here loads a driver: the better-sqlite3 adapter is imported from './sqlite-node.ts'
// by Node code only; the Durable Object adapter runs on workerd.
export { assert, AssertionError } from './assert.ts';
export * from './limits.ts';
export * from './ids.ts';
export * from './hlc.ts';
export * from './op.ts';
export * from './manifest.ts';
export { encodeOp, decodeOp, checkOp, checkAndEncodeOp, chunksNamed, mapRefs, OpFormatError, OP_FORMAT } from './codec.ts';
export * from './cursor.ts';
export { checkCheckpoint, CheckpointError, pagesDigest, stableCut, type Checkpoint, type CutSource } from './checkpoint.ts';
export { ensureSchema, type SqlAdapter, type SqlStatement, type SqlValue, type SqlRow } from './sql.ts';
export { DoSqlite, DoLimitError, type DoStorage } from './sqlite-do.ts';
export { LogStore, GapError, type StoredOp } from './log-store.ts';
export { ChunkStore, ChunkHashError, ChunkNotLoadedError, MissingChunkError, sha256, hex } from './chunk-store.ts';
export { BulkWriter } from './bulk.ts';
export * from './export-format.ts';
export { PrefixedSql } from './sql-scratch.ts';
export { R2Chunks, chunkKey, type Bucket } from './r2-chunks.ts';
export { indexRows, NodeIndex, NodeRole } from './node-index.ts';
