// Export and import (spec/export.md): a store's workspace at a position as the records of an
// export file, and a new store loaded from them with every part checked: chunks against their
// hashes, ops decoded and validated, each origin's seqs contiguous, and what the file claims (its
// version vector, fingerprint and the state digest of its projections) against what loading gave.
// The imported store holds the same ops under their own origins (spec/history.md, "Export").
import {
  assert, CheckpointError, ChunkHashError, chunksNamed, ClockDriftError, decodeOp, EMPTY_FINGERPRINT, EXPORT_OPS_RECORD_BYTES_MAX, ExportFormatError,
  GapError, hex, OP_PAGE_COUNT, opDigest, OpFormatError, pagesDigest, SnapshotRequiredError, unpackId, unpackManifest, xorInto,
  type ExportHeader, type ExportRecord, type Op, type Ts, type VersionVector,
} from '../log/index.ts';
import { checkpointChunks, stateDigest } from './checkpoint-state.ts';
import { Projector } from './projector.ts';
import { PROJECTION_LAYOUT } from './schema.ts';
import type { Store } from './store.ts';

const corrupt = (detail: string) => new ExportFormatError(`is corrupt: ${detail}`);

/** The ops up to `at`, their bytes undecoded, with the origin (a timestamp ends with it) and seq (a local id's low bits). */
function* opsUpTo(store: Store, at: Ts | '') {
  for (const { id, ts, bytes } of store.log.scanBytes()) {
    if (ts > at) return;
    yield { origin: ts.slice(18), seq: unpackId(id).seq, bytes };
  }
}

/** The state digest of the projections at `at`: the live ones when nothing follows it, else a replay. */
function stateAt(store: Store, at: Ts | ''): string {
  if (at >= (store.log.maxTs() ?? '')) return stateDigest(store.sql, store.log);
  const scratch = store.sql.scratch();
  try {
    new Projector(scratch, store.log).rebuild({ until: at });
    return stateDigest(scratch, store.log);
  } finally {
    scratch.close();
  }
}

/**
 * The records of an export of `store` at `at` (at or after its checkpoint): the header, found by a
 * first pass over the ops, then the checkpoint's pages and chunks, then the ops in timestamp order
 * in pages, each chunk once just before the first op that names it, then the end. The caller reads
 * the store in one transaction, so that both passes see the same ops.
 */
export function* exportRecords(store: Store, at: Ts | '', onProgress?: (ops: number, total: number) => void): Generator<ExportRecord> {
  const checkpoint = store.log.checkpoint;
  if (checkpoint && at < checkpoint.ts) throw new CheckpointError(`${at} is before the checkpoint at ${checkpoint.ts}: that history was compacted`);
  const fingerprint = Buffer.from(checkpoint?.fingerprint ?? EMPTY_FINGERPRINT, 'hex');
  const versionVector: VersionVector = { ...checkpoint?.versionVector };
  const fromCheckpoint = [...checkpointChunks(store.log.checkpointPages()).values()];
  /** every chunk to write, by hex hash, until it is written */
  const unwritten = new Map(fromCheckpoint.map((hash) => [hex(hash), hash]));
  let ops = 0;
  for (const { origin, seq, bytes } of opsUpTo(store, at)) {
    xorInto(fingerprint, opDigest(bytes));
    versionVector[origin] = seq;
    ops++;
    for (const hash of chunksNamed(bytes)) unwritten.set(hex(hash), hash);
  }
  const header: ExportHeader = {
    origin: store.origin, at, layout: PROJECTION_LAYOUT, checkpoint, ops, chunks: unwritten.size, versionVector,
    fingerprint: fingerprint.toString('hex'), state: stateAt(store, at),
  };
  yield { type: 'header', header };
  let n = 0;
  for (const bytes of store.log.checkpointPages()) yield { type: 'page', n: n++, bytes };
  function* chunks(hashes: Iterable<Uint8Array>): Generator<ExportRecord> {
    for (const hash of hashes) if (unwritten.delete(hex(hash))) yield { type: 'chunk', hash, data: store.chunks.get(hash) };
  }
  yield* chunks(fromCheckpoint);
  let page: Uint8Array[] = [];
  let pageBytes = 0;
  let done = 0;
  for (const { bytes } of opsUpTo(store, at)) {
    yield* chunks(chunksNamed(bytes));
    if (page.length > 0 && (page.length >= OP_PAGE_COUNT || pageBytes + bytes.length > EXPORT_OPS_RECORD_BYTES_MAX)) {
      yield { type: 'ops', ops: page };
      onProgress?.(done, ops);
      [page, pageBytes] = [[], 0];
    }
    page.push(bytes);
    pageBytes += bytes.length;
    done++;
  }
  if (page.length > 0) yield { type: 'ops', ops: page };
  onProgress?.(done, ops);
  assert(done === ops && unwritten.size === 0, `the store changed while it was exported (${done} of ${ops} ops, ${unwritten.size} chunks unwritten): read it in one transaction`);
  yield { type: 'end' };
}

/** Errors that say what is wrong with what a file holds (anything else, a full disk or a bug, is not the file's). */
const CONTENT_ERRORS = [OpFormatError, ChunkHashError, GapError, CheckpointError, SnapshotRequiredError, ClockDriftError];

/** Runs `fn`; an error about the file's contents becomes an ExportFormatError. */
function checked<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!CONTENT_ERRORS.some((kind) => error instanceof kind)) throw error;
    throw corrupt(`${what}: ${(error as Error).message}`);
  }
}

/**
 * Loads an export's records into `store`, a new one (which keeps its own new origin), checking
 * every record as it arrives and, at the end, what the header claims. Returns the header.
 */
export function importRecords(store: Store, records: Iterable<ExportRecord>, onProgress?: (ops: number, total: number) => void): ExportHeader {
  if (store.log.count() > 0 || store.log.checkpoint || store.chunks.totals().count > 0) throw new Error('an import loads a new store');
  let header: ExportHeader | undefined;
  const counts = { pages: 0, chunks: 0, ops: 0 };
  /** hex hashes of the chunks the checkpoint and the ops so far name */
  const named = new Set<string>();
  let installed = true;
  let last: Ts | '' = '';
  const install = (checkpoint: NonNullable<ExportHeader['checkpoint']>) => {
    if (counts.pages !== checkpoint.pages) throw corrupt(`it has ${counts.pages} of its checkpoint's ${checkpoint.pages} pages`);
    if (pagesDigest(store.log.stagedPages()) !== checkpoint.digest) throw corrupt("its checkpoint's pages do not match the checkpoint's digest");
    for (const [key, hash] of checked('its checkpoint', () => checkpointChunks(store.log.stagedPages()))) {
      if (!store.chunks.has(hash)) throw corrupt(`its checkpoint names chunk ${key}, which the file does not give before its ops`);
      named.add(key);
    }
    checked('its checkpoint', () => store.installSnapshot(checkpoint, checkpoint.versionVector));
    installed = true;
  };
  for (const record of records) {
    if (!header) {
      if (record.type !== 'header') throw corrupt('it does not start with a header');
      header = record.header;
      if (header.layout !== PROJECTION_LAYOUT) throw new ExportFormatError(`was made by a ledgerfs whose projection layout is ${header.layout}; this one's is ${PROJECTION_LAYOUT}`);
      installed = header.checkpoint === null;
      last = header.checkpoint?.ts ?? '';
      continue;
    }
    switch (record.type) {
      case 'header':
        throw corrupt('it has a second header');
      case 'page':
        if (installed || record.n !== counts.pages) throw corrupt(`checkpoint page ${record.n} is out of place`);
        store.log.stage(record.n, record.bytes);
        counts.pages++;
        break;
      case 'chunk':
        if (++counts.chunks > header.chunks) throw corrupt(`it has more chunks than its header's ${header.chunks}`);
        checked('a chunk', () => store.chunks.putVerified(record.hash, record.data));
        break;
      case 'ops': {
        if (!installed) install(header.checkpoint!);
        const ops: Op[] = [];
        for (const bytes of record.ops) {
          const op = checked('an op', () => decodeOp(bytes));
          ops.push(op);
          if (op.ts <= last || op.ts > header.at) throw corrupt(`op ${op.origin}:${op.seq} is out of timestamp order or after the position ${header.at}`);
          last = op.ts;
          if (op.kind !== 'setContent') continue;
          for (const { hash } of unpackManifest(op.manifest)) {
            const key = hex(hash);
            if (named.has(key)) continue;
            if (!store.chunks.has(hash)) throw corrupt(`op ${op.origin}:${op.seq} names chunk ${key}, which the file does not give before it`);
            named.add(key);
          }
        }
        checked('its ops', () => store.ingest(ops));
        counts.ops += ops.length;
        onProgress?.(counts.ops, header.ops);
        break;
      }
      case 'end':
        if (!installed) install(header.checkpoint!);
        checkClaims(store, header, counts, named.size);
        return header;
    }
  }
  throw new ExportFormatError('is truncated: it ends before its end record (export it again)');
}

/** What loading the file gave must be what its header says. */
function checkClaims(store: Store, header: ExportHeader, counts: { ops: number; chunks: number }, named: number): void {
  if (counts.ops !== header.ops) throw corrupt(`it has ${counts.ops} ops; its header says ${header.ops}`);
  if (counts.chunks !== header.chunks || named !== header.chunks) throw corrupt(`it has ${counts.chunks} chunks and names ${named}; its header says ${header.chunks}`);
  const sorted = (vv: VersionVector) => JSON.stringify(Object.entries(vv).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (sorted(store.log.versionVector()) !== sorted(header.versionVector)) throw corrupt("its ops are not the ones its header's version vector names");
  if (store.log.fingerprint() !== header.fingerprint) throw corrupt(`its ops' fingerprint is ${store.log.fingerprint()}; its header says ${header.fingerprint}`);
  const state = stateDigest(store.sql, store.log);
  if (state !== header.state) throw corrupt(`the projections built from it have state digest ${state}; its header says ${header.state} (or the exporting store's projections were wrong: ledgerfs verify it)`);
}
