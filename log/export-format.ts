// The export file (spec/export.md): a workspace as one portable file, written and read as a
// stream. A preamble (magic, format version), then records, each a 4-byte big-endian length and a
// msgpack array whose first item names it: the header (what the file holds and what loading it
// must give), the checkpoint's pages, chunks, pages of op bytes, and the end. A chunk comes before
// the first op that names it, so an import checks each op's chunks as the op arrives; the end
// record tells a whole file from a truncated one. Everything read is untrusted: records are checked
// here field by field, and what they claim by the import (projections/export.ts).
import { Packr } from 'msgpackr';
import { checkCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { VersionVector } from './cursor.ts';
import { isTs, type Ts } from './hlc.ts';
import { isOrigin } from './ids.ts';
import { CHUNK_BYTES, EXPORT_OPS_RECORD_BYTES_MAX, EXPORT_RECORD_BYTES_MAX, OP_PAGE_COUNT, SEQ_MAX } from './limits.ts';
import { HASH_BYTES } from './manifest.ts';

/** 0x89 so that no text file starts this way, then LFSX, then CR LF SUB LF, which newline conversion would change (as PNG's). */
export const EXPORT_MAGIC = Uint8Array.of(0x89, 0x4c, 0x46, 0x53, 0x58, 0x0d, 0x0a, 0x1a);
/** The export format this code writes and reads. */
export const EXPORT_FORMAT = 1;
/** The magic, then the format as a uint32 big-endian. */
export const PREAMBLE_BYTES = EXPORT_MAGIC.length + 4;
const LENGTH_BYTES = 4;

export interface ExportHeader {
  /** the exporting store's own origin */
  origin: string;
  /** the position exported: the state after every op at or before it ('' for an empty store) */
  at: Ts | '';
  /** the projection layout of `state` and of the checkpoint's pages */
  layout: number;
  /** the checkpoint the ops follow (its pages come first), or null for a whole log */
  checkpoint: Checkpoint | null;
  /** ops in the ops records */
  ops: number;
  /** chunk records: every chunk the checkpoint and the ops name, once */
  chunks: number;
  /** the version vector and fingerprint of everything the file holds (the checkpoint's ops and the ops) */
  versionVector: VersionVector;
  fingerprint: string;
  /** the state digest (projections/checkpoint-state.ts) of the projections at `at` */
  state: string;
}

export type ExportRecord =
  | { type: 'header'; header: ExportHeader }
  | { type: 'page'; n: number; bytes: Uint8Array }
  | { type: 'chunk'; hash: Uint8Array; data: Uint8Array }
  | { type: 'ops'; ops: Uint8Array[] }
  | { type: 'end' };

/** The file is not an export, is of another format, truncated or corrupt; the message says which, after the file's name. */
export class ExportFormatError extends Error {
  override name = 'ExportFormatError';
  readonly code = 'EBADEXPORT';
}

const corrupt = (detail: string) => new ExportFormatError(`is corrupt: ${detail}`);

const packr = new Packr({ useRecords: false, variableMapSize: true, structuredClone: false });

export function preamble(): Uint8Array {
  const bytes = new Uint8Array(PREAMBLE_BYTES);
  bytes.set(EXPORT_MAGIC);
  new DataView(bytes.buffer).setUint32(EXPORT_MAGIC.length, EXPORT_FORMAT);
  return bytes;
}

/** A record as it is written: its length, then its msgpack array. */
export function encodeRecord(record: ExportRecord): Uint8Array {
  const body = packr.pack(fields(record));
  const framed = new Uint8Array(LENGTH_BYTES + body.length);
  new DataView(framed.buffer).setUint32(0, body.length);
  framed.set(body, LENGTH_BYTES);
  return framed;
}

function fields(record: ExportRecord): unknown[] {
  switch (record.type) {
    case 'header': return ['header', record.header];
    case 'page': return ['page', record.n, record.bytes];
    case 'chunk': return ['chunk', record.hash, record.data];
    case 'ops': return ['ops', record.ops];
    case 'end': return ['end'];
  }
}

const uint32 = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(0);

/**
 * The records of an export file of `size` bytes, read through `read(offset, length)`, which
 * returns exactly those bytes. Refuses a file that is not an export or of another format, a record
 * that runs past the end (truncated), one that does not decode, a header anywhere but first, and
 * bytes after the end record.
 */
export function* readRecords(size: number, read: (offset: number, length: number) => Uint8Array): Generator<ExportRecord> {
  if (size < PREAMBLE_BYTES || Buffer.compare(read(0, EXPORT_MAGIC.length), EXPORT_MAGIC) !== 0) {
    throw new ExportFormatError('is not a ledgerfs export (it does not start with the export magic; ledgerfs export makes one)');
  }
  const format = uint32(read(EXPORT_MAGIC.length, 4));
  if (format !== EXPORT_FORMAT) throw new ExportFormatError(`is an export of format ${format}; this ledgerfs reads format ${EXPORT_FORMAT}`);
  for (let offset = PREAMBLE_BYTES, first = true; ; first = false) {
    if (offset + LENGTH_BYTES > size) throw new ExportFormatError(`is truncated: it ends at byte ${size}, before its end record (export it again)`);
    const length = uint32(read(offset, LENGTH_BYTES));
    if (length > EXPORT_RECORD_BYTES_MAX) throw corrupt(`the record at byte ${offset} claims ${length} bytes, more than any record holds`);
    if (offset + LENGTH_BYTES + length > size) throw new ExportFormatError(`is truncated: the record at byte ${offset} runs past its end at byte ${size} (export it again)`);
    let record: ExportRecord;
    try {
      record = decodeRecord(read(offset + LENGTH_BYTES, length));
    } catch (error) {
      if (error instanceof ExportFormatError) throw corrupt(`the record at byte ${offset}: ${error.message.replace(/^is corrupt: /, '')}`);
      throw error;
    }
    if ((record.type === 'header') !== first) throw corrupt(`the record at byte ${offset} is ${first ? `a ${record.type} record, not the header` : 'a second header'}`);
    offset += LENGTH_BYTES + length;
    if (record.type === 'end' && offset !== size) throw corrupt(`${size - offset} bytes follow its end record`);
    yield record;
    if (record.type === 'end') return;
  }
}

/** One record's msgpack body, checked field by field. */
export function decodeRecord(body: Uint8Array): ExportRecord {
  let value: unknown;
  try {
    value = packr.unpack(body);
  } catch {
    throw corrupt('it is not one msgpack value'); // msgpackr's message can quote the whole record
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string') throw corrupt('it is not a tagged array');
  const [type, a, b] = value as [string, unknown, unknown];
  const arity = (n: number) => {
    if (value.length !== n) throw corrupt(`its ${type} record has ${value.length - 1} fields, not ${n - 1}`);
  };
  switch (type) {
    case 'header':
      arity(2);
      return { type, header: checkHeader(a) };
    case 'page':
      arity(3);
      if (!isCount(a, 2 ** 31) || !(b instanceof Uint8Array)) throw corrupt('a page record is not [n, bytes]');
      return { type, n: a, bytes: b };
    case 'chunk':
      arity(3);
      if (!(a instanceof Uint8Array) || a.length !== HASH_BYTES || !(b instanceof Uint8Array) || b.length > CHUNK_BYTES) throw corrupt(`a chunk record is not [${HASH_BYTES}-byte hash, at most ${CHUNK_BYTES} bytes]`);
      return { type, hash: a, data: b };
    case 'ops':
      arity(2);
      if (!Array.isArray(a) || a.length === 0 || !a.every((op) => op instanceof Uint8Array)) throw corrupt('an ops record is not a list of op bytes');
      if (a.length > OP_PAGE_COUNT) throw corrupt(`an ops record holds ${a.length} ops, more than ${OP_PAGE_COUNT}`);
      if (a.length > 1 && a.reduce((sum, op: Uint8Array) => sum + op.length, 0) > EXPORT_OPS_RECORD_BYTES_MAX) throw corrupt(`an ops record holds more than ${EXPORT_OPS_RECORD_BYTES_MAX} bytes of ops`);
      return { type, ops: a as Uint8Array[] };
    case 'end':
      arity(1);
      return { type };
    default:
      throw corrupt(`a record of unknown type ${JSON.stringify(type.slice(0, 32))}`);
  }
}

const HEX_64 = /^[0-9a-f]{64}$/;
const isCount = (value: unknown, max: number): value is number => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max;

function checkHeader(value: unknown): ExportHeader {
  const bad = (what: string) => corrupt(`its header has a bad ${what}`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('shape');
  const h = value as Record<string, unknown>;
  if (!isOrigin(h.origin)) throw bad('origin');
  if (h.at !== '' && !isTs(h.at)) throw bad('position');
  if (!isCount(h.layout, 2 ** 31)) throw bad('layout');
  if (!isCount(h.ops, Number.MAX_SAFE_INTEGER) || !isCount(h.chunks, Number.MAX_SAFE_INTEGER)) throw bad('count');
  if (typeof h.fingerprint !== 'string' || !HEX_64.test(h.fingerprint)) throw bad('fingerprint');
  if (typeof h.state !== 'string' || !HEX_64.test(h.state)) throw bad('state digest');
  const vv = h.versionVector;
  if (!vv || typeof vv !== 'object' || Array.isArray(vv)) throw bad('version vector');
  const versionVector: VersionVector = {};
  for (const [origin, seq] of Object.entries(vv)) {
    if (!isOrigin(origin) || !isCount(seq, SEQ_MAX) || seq === 0) throw bad(`version vector entry ${origin.slice(0, 32)}`);
    versionVector[origin] = seq;
  }
  let checkpoint: Checkpoint | null = null;
  if (h.checkpoint !== null) {
    try {
      checkpoint = checkCheckpoint(h.checkpoint);
    } catch (error) {
      throw bad(`checkpoint (${(error as Error).message})`);
    }
  }
  return { origin: h.origin, at: h.at as Ts | '', layout: h.layout, checkpoint, ops: h.ops as number, chunks: h.chunks as number, versionVector, fingerprint: h.fingerprint, state: h.state };
}
