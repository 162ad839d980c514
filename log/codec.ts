// Canonical op bytes. An op is a msgpack array whose layout is fixed per kind and format:
//   [format, kindCode, origin, seq, clock, actor, ...fields in FIELDS order]
// where clock is the timestamp without its origin suffix ('0193b8a1c2d4.0000')
// and an actor is [kind, pid, uid, gid, id, command, name] with trailing nulls dropped (so ops
// made before `name` was added keep their bytes). Format 2 added
// fields at the end of some kinds (marked 2 below); an op whose format-2 fields are all empty is
// written in format 1, so an op has one encoding and ops made before format 2 keep their bytes.
// Every replica encodes an op to the same bytes, so fingerprints can hash encoded ops. Decoding
// validates every field: bytes from a peer or an RPC caller are untrusted input.
import { Packr } from 'msgpackr';
import { assert } from './assert.ts';
import { isOrigin, isRef, TRASH_REF, type Ref } from './ids.ts';
import { isTs } from './hlc.ts';
import { ACTOR_TEXT_CHARS_MAX, CHUNK_BYTES, FILE_BYTES_MAX, SEQ_MAX, NAME_BYTES_MAX, PATH_BYTES_MAX, REFS_COUNT_MAX, XATTR_NAME_BYTES_MAX, XATTR_VALUE_BYTES_MAX } from './limits.ts';
import type { Actor, NodeType, Op, OpBody, OpKind } from './op.ts';
import { MANIFEST_RECORD_BYTES, manifestAt, manifestCount, unpackManifest } from './manifest.ts';

/** The newest op format this code writes (only for ops that need it) and reads. */
export const OP_FORMAT = 2;

type FieldType = 'ref' | 'parent' | 'refOrNull' | 'name' | 'target' | 'xattrName' | 'xattrValue' | 'uint' | 'uintOrNull'
  | 'bool' | 'nodeType' | 'timespecOrNull' | 'refs' | 'manifest';

/** [name, type] of a format-1 field; [name, 'refs', 2] of a field added in format 2 (empty in format 1). */
type Field = readonly [string, FieldType] | readonly [string, 'refs', 2];

const FIELDS: Record<OpKind, ReadonlyArray<Field>> = {
  create: [['parent', 'parent'], ['name', 'name'], ['type', 'nodeType'], ['mode', 'uint'], ['uid', 'uint'], ['gid', 'uint'], ['target', 'target'], ['rdev', 'uint']],
  link: [['parent', 'parent'], ['name', 'name'], ['node', 'ref']],
  move: [['entry', 'ref'], ['node', 'ref'], ['from', 'ref'], ['parent', 'parent'], ['name', 'name'], ['other', 'refOrNull'], ['otherNode', 'refOrNull'], ['exchange', 'bool'], ['seen', 'refs', 2]],
  unlink: [['entry', 'ref'], ['node', 'ref'], ['parent', 'ref'], ['seen', 'refs', 2]],
  rmdir: [['entry', 'ref'], ['node', 'ref'], ['parent', 'ref'], ['seen', 'refs', 2]],
  setContent: [['node', 'ref'], ['size', 'uint'], ['manifest', 'manifest'], ['base', 'refs'], ['deletes', 'refs', 2]],
  setAttr: [['node', 'ref'], ['mode', 'uintOrNull'], ['uid', 'uintOrNull'], ['gid', 'uintOrNull'], ['atime', 'timespecOrNull'], ['mtime', 'timespecOrNull']],
  setXattr: [['node', 'ref'], ['name', 'xattrName'], ['value', 'xattrValue']],
};

// Format-2 fields come after every format-1 field of their kind: a format-1 array is a prefix.
for (const [kind, fields] of Object.entries(FIELDS)) {
  const first = fields.findIndex((field) => field.length === 3);
  assert(first < 0 || fields.slice(first).every((field) => field.length === 3), `${kind}: format-2 fields must come last`);
}

/** Each field's name as error messages give it ('create.name'), built once. */
const FIELD_LABELS = Object.fromEntries(Object.entries(FIELDS).map(([kind, fields]) => [kind, fields.map(([name]) => `${kind}.${name}`)])) as Record<OpKind, string[]>;

/** The fields of a kind in one format. */
const FORMAT_FIELDS: Record<1 | 2, Record<OpKind, ReadonlyArray<Field>>> = {
  1: Object.fromEntries(Object.entries(FIELDS).map(([kind, fields]) => [kind, fields.filter((field) => field.length === 2)])) as Record<OpKind, Field[]>,
  2: FIELDS,
};

const isEmptyList = (value: unknown): boolean => Array.isArray(value) && value.length === 0;

/** The format an op is written in: 1 unless a format-2 field has something in it. */
function formatOf(kind: OpKind, record: Record<string, unknown>): 1 | 2 {
  return FIELDS[kind].every((field) => field.length === 2 || isEmptyList(record[field[0]])) ? 1 : 2;
}

const KIND_CODES: OpKind[] = ['create', 'link', 'move', 'unlink', 'rmdir', 'setContent', 'setAttr', 'setXattr'];
const NODE_TYPES: ReadonlySet<NodeType> = new Set(['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev']);
const ACTOR_KINDS: ReadonlySet<Actor['kind']> = new Set(['fuse', 'exec', 'rpc', 'cli', 'api', 'tool']);
const ACTOR_FIELDS = ['kind', 'pid', 'uid', 'gid', 'id', 'command', 'name'] as const;

export class OpFormatError extends Error {
  override name = 'OpFormatError';
  readonly code = 'EINVAL';
}

// structuredClone off: msgpackr would otherwise read its back-reference extension, with which a
// few bytes of untrusted input expand into any number of copies of one value.
const packr = new Packr({ useRecords: false, variableMapSize: true, structuredClone: false });

export function encodeOp(op: Op): Uint8Array {
  return packr.pack(toArray(op as unknown as Record<string, unknown>, op.actor));
}

/** checkOp and encodeOp in one: the canonical array is built once for both. */
export function checkAndEncodeOp(value: unknown): { op: Op; bytes: Uint8Array } {
  if (value && typeof value === 'object' && validated.has(value)) return { op: value as Op, bytes: encodeOp(value as Op) };
  const array = canonicalArray(value);
  return { op: opFromArray(array), bytes: packr.pack(array) };
}

/** The canonical array of an op given as a record; `actor` is encoded unless it is not an object. */
function toArray(record: Record<string, unknown>, actor: unknown): unknown[] {
  const kind = record.kind as OpKind;
  if (!FIELDS[kind]) throw new OpFormatError(`unknown op kind ${JSON.stringify(kind)}`);
  const format = formatOf(kind, record);
  const array: unknown[] = [format, KIND_CODES.indexOf(kind), record.origin, record.seq, clockPart(record.ts as string),
    actor && typeof actor === 'object' ? encodeActor(actor as Actor) : actor];
  for (const [name, type] of FORMAT_FIELDS[format][kind]) array.push(encodeField(record[name], type));
  return array;
}

/**
 * Decodes op bytes, validating every field. `trusted` skips field validation for bytes this
 * store wrote itself after validating them (log scans during rebuild and replay).
 */
export function decodeOp(bytes: Uint8Array, trusted = false): Op {
  let array: unknown;
  try {
    array = packr.unpack(bytes);
  } catch (error) {
    throw new OpFormatError(`op bytes are not msgpack: ${(error as Error).message}`);
  }
  return trusted ? opFromTrustedArray(array as unknown[]) : opFromArray(array);
}

function opFromTrustedArray(array: unknown[]): Op {
  const kind = KIND_CODES[array[1] as number]!;
  const values = array[5] as unknown[];
  const actor: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) if (values[i] !== null) actor[ACTOR_FIELDS[i]!] = values[i];
  const op: Record<string, unknown> = { origin: array[2], seq: array[3], ts: `${array[4] as string}.${array[2] as string}`, actor, kind };
  FIELDS[kind].forEach((field, i) => {
    op[field[0]] = 6 + i < array.length ? array[6 + i] : [];
  });
  return op as unknown as Op;
}

// Every op is a msgpack array of at most 15 items, so its header is one byte (a fixarray), and its
// format and kind code are one-byte integers: the kind is the third byte.
assert(Math.max(...Object.values(FIELDS).map((fields) => fields.length)) + 6 <= 15, 'an op must fit a msgpack fixarray');

/** The kind of op bytes this store wrote, read without decoding them. */
function kindOf(bytes: Uint8Array): OpKind {
  const kind = KIND_CODES[bytes[2]!];
  assert((bytes[0]! & 0xf0) === 0x90 && (bytes[1] === 1 || bytes[1] === 2) && kind !== undefined, 'op bytes must start with a fixarray, a format and a kind code');
  return kind;
}

/** The hashes of the chunks op bytes this store wrote name: a setContent's; no other op is decoded. */
export function chunksNamed(bytes: Uint8Array): Uint8Array[] {
  if (kindOf(bytes) !== 'setContent') return [];
  return unpackManifest((decodeOp(bytes, true) as Op & { kind: 'setContent' }).manifest).map((chunk) => chunk.hash);
}

/** Ops this codec validated (frozen, so they stay valid): checking one again is free. */
const validated = new WeakSet<object>();

/** Validates an op that arrived as a structured value (RPC) and returns a clean copy. */
export function checkOp(value: unknown): Op {
  if (value && typeof value === 'object' && validated.has(value)) return value as Op;
  return opFromArray(canonicalArray(value));
}

/** The canonical array of an op given as a structured value, before its fields are validated. */
function canonicalArray(value: unknown): unknown[] {
  if (!value || typeof value !== 'object') throw new OpFormatError('op must be an object');
  const record = value as Record<string, unknown>;
  if (!FIELDS[record.kind as OpKind]) throw new OpFormatError(`unknown op kind ${JSON.stringify(record.kind)}`);
  if (!isTs(record.ts) || record.ts.slice(18) !== record.origin) throw new OpFormatError(`bad timestamp ${JSON.stringify(record.ts)} for origin ${String(record.origin)}`);
  return toArray(record, record.actor);
}

function opFromArray(array: unknown): Op {
  if (!Array.isArray(array)) throw new OpFormatError('op must be an array');
  const [format, code, origin, seq, clock, actor] = array;
  if (format !== 1 && format !== 2) throw new OpFormatError(`unsupported op format ${String(format)} (this ledgerfs reads 1..${OP_FORMAT})`);
  const kind = KIND_CODES[code as number];
  if (!kind) throw new OpFormatError(`unknown op kind code ${String(code)}`);
  const fields = FORMAT_FIELDS[format as 1 | 2][kind];
  if (array.length !== 6 + fields.length) throw new OpFormatError(`${kind} op of format ${format} has ${array.length - 6} fields, expected ${fields.length}`);
  if (!isOrigin(origin)) throw new OpFormatError(`bad origin ${JSON.stringify(origin)}`);
  if (!Number.isInteger(seq) || (seq as number) < 1 || (seq as number) > SEQ_MAX) throw new OpFormatError(`bad seq ${String(seq)}`);
  const ts = `${String(clock)}.${origin}`;
  if (typeof clock !== 'string' || !isTs(ts)) throw new OpFormatError(`bad timestamp ${JSON.stringify(clock)}`);
  const op: Record<string, unknown> = { origin, seq, ts, actor: decodeActor(actor), kind };
  const all = FIELDS[kind];
  const labels = FIELD_LABELS[kind];
  for (let i = 0; i < all.length; i++) op[all[i]![0]] = i < fields.length ? decodeField(array[6 + i], all[i]![1], labels[i]!) : [];
  if (format !== formatOf(kind, op)) throw new OpFormatError(`${kind} op in format ${format} is not canonical: its format-2 fields are all empty`);
  if (kind === 'setContent') checkManifest(op.manifest as Uint8Array, op.size as number);
  validated.add(Object.freeze(op));
  return op as unknown as Op;
}

/** A copy of an op body with every ref in it (node and entry ids, bases, heads seen) mapped. */
export function mapRefs<T extends OpBody>(body: T, map: (ref: Ref) => Ref): T {
  const copy: Record<string, unknown> = { ...body };
  for (const [name, type] of FIELDS[body.kind]) {
    const value = copy[name];
    if (type === 'ref' || type === 'parent' || (type === 'refOrNull' && value !== null)) copy[name] = map(value as Ref);
    else if (type === 'refs') copy[name] = (value as Ref[]).map(map);
  }
  return copy as T;
}

const clockPart = (ts: string): string => ts.slice(0, 17);

function encodeActor(actor: Actor): unknown[] {
  const array: unknown[] = ACTOR_FIELDS.map((field) => actor[field] ?? null);
  while (array.length > 1 && array[array.length - 1] === null) array.pop();
  return array;
}

function decodeActor(value: unknown): Actor {
  if (!Array.isArray(value) || value.length < 1 || value.length > ACTOR_FIELDS.length) throw new OpFormatError('bad actor');
  const [kind, pid, uid, gid, id, command, name] = value;
  if (!ACTOR_KINDS.has(kind)) throw new OpFormatError(`bad actor kind ${JSON.stringify(kind)}`);
  const actor: Actor = { kind };
  if (pid != null) actor.pid = actorUint(pid, 'pid');
  if (uid != null) actor.uid = actorUint(uid, 'uid');
  if (gid != null) actor.gid = actorUint(gid, 'gid');
  if (id != null) actor.id = actorText(id, 'id');
  if (command != null) actor.command = actorText(command, 'command');
  if (name != null) actor.name = actorText(name, 'name');
  return actor;
}

function actorUint(value: unknown, key: string): number {
  if (!isUint(value)) throw new OpFormatError(`bad actor ${key}`);
  return value;
}

function actorText(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.length > ACTOR_TEXT_CHARS_MAX) throw new OpFormatError(`bad actor ${key}`);
  return value;
}

function encodeField(value: unknown, type: FieldType): unknown {
  return value === undefined && (type === 'refOrNull' || type === 'uintOrNull' || type === 'timespecOrNull') ? null : value;
}

function isUint(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A copy of the same class (a Buffer stays a Buffer): an op keeps none of its maker's arrays, which a caller may change after the call. */
const copyBytes = (value: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(value);

/** A bytes field, copied (copyBytes). */
function bytes(value: unknown, what: string, min: number, max: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new OpFormatError(`${what} must be bytes`);
  if (value.length < min || value.length > max) throw new OpFormatError(`${what} must be ${min}..${max} bytes, got ${value.length}`);
  return copyBytes(value);
}

function decodeField(value: unknown, type: FieldType, what: string): unknown {
  switch (type) {
    case 'ref':
      if (!isRef(value)) throw new OpFormatError(`${what} is not a ref: ${JSON.stringify(value)}`);
      return value;
    case 'parent':
      if (value === TRASH_REF) throw new OpFormatError(`${what} cannot be the trash: only removals put entries there`);
      return decodeField(value, 'ref', what);
    case 'refOrNull':
      if (value === null) return null;
      return decodeField(value, 'ref', what);
    case 'refs':
      if (!Array.isArray(value) || value.length > REFS_COUNT_MAX) throw new OpFormatError(`${what} must be an array of at most ${REFS_COUNT_MAX} refs`);
      return value.map((ref) => decodeField(ref, 'ref', what) as Ref);
    case 'name': {
      const name = bytes(value, what, 1, NAME_BYTES_MAX);
      if (name.includes(0x2f) || name.includes(0)) throw new OpFormatError(`${what} contains '/' or NUL`);
      if ((name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e)) {
        throw new OpFormatError(`${what} is '.' or '..'`);
      }
      return name;
    }
    case 'target':
      return bytes(value, what, 0, PATH_BYTES_MAX);
    case 'xattrName':
      return bytes(value, what, 1, XATTR_NAME_BYTES_MAX);
    case 'xattrValue':
      return value === null ? null : bytes(value, what, 0, XATTR_VALUE_BYTES_MAX);
    case 'uint':
      if (!isUint(value)) throw new OpFormatError(`${what} must be a non-negative integer`);
      return value;
    case 'uintOrNull':
      return value === null ? null : decodeField(value, 'uint', what);
    case 'bool':
      if (typeof value !== 'boolean') throw new OpFormatError(`${what} must be a boolean`);
      return value;
    case 'nodeType':
      if (!NODE_TYPES.has(value as NodeType)) throw new OpFormatError(`${what} is not a node type: ${JSON.stringify(value)}`);
      return value;
    case 'timespecOrNull':
      if (value === null) return null;
      if (!Array.isArray(value) || value.length !== 2 || !Number.isSafeInteger(value[0]) || !isUint(value[1]) || value[1] >= 1e9) {
        throw new OpFormatError(`${what} must be [sec, nsec]`);
      }
      return [value[0], value[1]];
    case 'manifest':
      if (!(value instanceof Uint8Array) || value.length % MANIFEST_RECORD_BYTES !== 0) {
        throw new OpFormatError(`${what} must be a whole number of ${MANIFEST_RECORD_BYTES}-byte records`);
      }
      return copyBytes(value);
  }
}

/**
 * Content is cut in fixed-size chunks, all full but the file's last; the manifest lists the data
 * chunks in increasing order, each inside the size; the chunks it does not list are holes.
 */
function checkManifest(manifest: Uint8Array, size: number): void {
  if (size > FILE_BYTES_MAX) throw new OpFormatError(`setContent of ${size} bytes is over the ${FILE_BYTES_MAX}-byte file limit`);
  for (let at = 0, after = -1; at < manifestCount(manifest); at++) {
    const { index, size: bytes } = manifestAt(manifest, at);
    if (index <= after) throw new OpFormatError(`setContent chunk ${index} is out of order`);
    if (index * CHUNK_BYTES >= size) throw new OpFormatError(`setContent chunk ${index} is past the end of ${size} bytes`);
    const expected = Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES);
    if (bytes !== expected) throw new OpFormatError(`setContent chunk ${index} must be ${expected} bytes`);
    after = index;
  }
}
