import { describe, expect, it } from 'vitest';
import { pack, unpack } from 'msgpackr';
import { checkOp, chunksNamed, CHUNK_BYTES, decodeOp, EMPTY_MANIFEST, encodeOp, FILE_BYTES_MAX, manifestBytes, OP_FORMAT, OpFormatError, packManifest, REFS_COUNT_MAX, type Op } from './index.ts';

const ORIGIN = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3F';
const TS = `0193b8a1c2d4.0000.${ORIGIN}`;
const header = { origin: ORIGIN, seq: 1, ts: TS, actor: { kind: 'exec' as const, id: 'x1', command: 'make' } };

// The wire table: each op kind's canonical bytes. A change here is a format change.
const TABLE: Array<[string, Op]> = [
  ['create', { ...header, kind: 'create', parent: 'root', name: Buffer.from('a'), type: 'file', mode: 0o644, uid: 1, gid: 2, target: Buffer.alloc(0), rdev: 0 }],
  ['link', { ...header, kind: 'link', parent: 'root', name: Buffer.from('b'), node: `${ORIGIN}:7` }],
  ['move', { ...header, kind: 'move', entry: `${ORIGIN}:7`, node: `${ORIGIN}:7`, from: 'root', parent: 'root', name: Buffer.from('c'), other: null, otherNode: null, exchange: false, seen: [] }],
  ['unlink', { ...header, kind: 'unlink', entry: `${ORIGIN}:7`, node: `${ORIGIN}:7`, parent: 'root', seen: [] }],
  ['rmdir', { ...header, kind: 'rmdir', entry: `${ORIGIN}:8`, node: `${ORIGIN}:8`, parent: 'root', seen: [] }],
  ['setContent', { ...header, kind: 'setContent', node: `${ORIGIN}:7`, size: 3, manifest: Buffer.from(packManifest([{ index: 0, hash: Buffer.alloc(32, 1), size: 3 }])), base: [], deletes: [] }],
  ['setAttr', { ...header, kind: 'setAttr', node: `${ORIGIN}:7`, mode: 0o600, uid: null, gid: null, atime: null, mtime: [1700000000, 5] }],
  ['setXattr', { ...header, kind: 'setXattr', node: `${ORIGIN}:7`, name: Buffer.from('user.k'), value: Buffer.from('v') }],
  // A tool call's actor carries the tool's name, the seventh actor field.
  ['setContent (tool actor)', { ...header, actor: { kind: 'tool', id: 'toolu_01', name: 'edit' }, kind: 'setContent', node: `${ORIGIN}:7`, size: 3, manifest: Buffer.from(packManifest([{ index: 0, hash: Buffer.alloc(32, 1), size: 3 }])), base: [], deletes: [] }],
  // Format 2: the same kinds with their format-2 fields filled in.
  ['move (format 2)', { ...header, kind: 'move', entry: `${ORIGIN}:7`, node: `${ORIGIN}:7`, from: 'root', parent: 'root', name: Buffer.from('c'), other: `${ORIGIN}:9`, otherNode: `${ORIGIN}:9`, exchange: false, seen: [`${ORIGIN}:10`] }],
  ['unlink (format 2)', { ...header, kind: 'unlink', entry: `${ORIGIN}:7`, node: `${ORIGIN}:7`, parent: 'root', seen: [`${ORIGIN}:10`, `${ORIGIN}:11`] }],
  ['setContent (format 2)', { ...header, kind: 'setContent', node: `${ORIGIN}:7`, size: 3, manifest: Buffer.from(packManifest([{ index: 0, hash: Buffer.alloc(32, 1), size: 3 }])), base: [`${ORIGIN}:10`], deletes: [`${ORIGIN}:12`] }],
];
const row = (name: string) => TABLE.find(([kind]) => kind === name)![1];

describe('op codec', () => {
  it.each(TABLE)('round-trips %s', (_, op) => {
    const bytes = encodeOp(op);
    expect(decodeOp(bytes)).toEqual(op);
    expect(decodeOp(bytes, true)).toEqual(op);
    expect(Buffer.from(encodeOp(decodeOp(bytes))).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(TABLE)('names the chunks of %s from its bytes', (_, op) => {
    expect(chunksNamed(encodeOp(op))).toEqual(op.kind === 'setContent' ? [Buffer.alloc(32, 1)] : []);
  });

  it('has fixed bytes per kind', () => {
    expect(Object.fromEntries(TABLE.map(([kind, op]) => [kind, Buffer.from(encodeOp(op)).toString('hex')]))).toMatchSnapshot();
  });

  it('writes format 1 unless a format-2 field is filled, and format 1 is a prefix of format 2', () => {
    for (const [kind, op] of TABLE) {
      const array = unpack(Buffer.from(encodeOp(op))) as unknown[];
      expect(array[0], kind).toBe(kind.endsWith('(format 2)') ? 2 : 1);
    }
    const v1 = unpack(Buffer.from(encodeOp(row('unlink')))) as unknown[];
    const v2 = unpack(Buffer.from(encodeOp(row('unlink (format 2)')))) as unknown[];
    expect(v2.slice(1, v1.length)).toEqual(v1.slice(1));
    expect(OP_FORMAT).toBe(2);
  });

  it('rejects a format-2 op whose format-2 fields are empty (it has one encoding, in format 1)', () => {
    const v1 = unpack(Buffer.from(encodeOp(row('unlink')))) as unknown[];
    expect(() => decodeOp(pack([2, ...v1.slice(1), []]))).toThrow(/not canonical/);
    expect(() => decodeOp(pack([1, ...v1.slice(1), ['x']]))).toThrow(/has 4 fields, expected 3/);
    expect(() => decodeOp(pack([3, ...v1.slice(1)]))).toThrow(/unsupported op format 3/);
  });

  it('drops trailing empty actor fields', () => {
    const op = { ...TABLE[0]![1], actor: { kind: 'api' as const } };
    expect(decodeOp(encodeOp(op)).actor).toEqual({ kind: 'api' });
  });

  const bad: Array<[string, Record<string, unknown>]> = [
    ['unknown kind', { kind: 'explode' }],
    ['name with slash', { name: Buffer.from('a/b') }],
    ['name dot-dot', { name: Buffer.from('..') }],
    ['empty name', { name: Buffer.alloc(0) }],
    ['name too long', { name: Buffer.alloc(256, 0x61) }],
    ['bad parent ref', { parent: 'nope' }],
    ['negative mode', { mode: -1 }],
    ['bad type', { type: 'pipe' }],
    ['bad origin', { origin: 'lowercase-not-ulid' }],
    ['ts of another origin', { ts: `0193b8a1c2d4.0000.${'1'.repeat(26)}` }],
    ['seq zero', { seq: 0 }],
    ['actor kind', { actor: { kind: 'god' } }],
    ['the trash as a parent', { parent: 'trash' }],
  ];
  it.each(bad)('rejects %s', (_, change) => {
    expect(() => checkOp({ ...TABLE[0]![1], ...change })).toThrow(OpFormatError);
  });

  it('rejects a manifest that does not add up to the size', () => {
    const op = row('setContent');
    expect(() => checkOp({ ...op, size: 4 })).toThrow(/chunk 0 must be 4 bytes/);
    const chunk = (index: number, size: number) => packManifest([{ index, hash: Buffer.alloc(32), size }]);
    expect(() => checkOp({ ...op, size: 20, manifest: chunk(1, 10) })).toThrow(/chunk 1 is past the end/);
    expect(() => checkOp({ ...op, size: 3 * CHUNK_BYTES, manifest: Buffer.concat([chunk(1, CHUNK_BYTES), chunk(0, CHUNK_BYTES)]) })).toThrow(/out of order/);
    expect(() => checkOp({ ...op, size: 3 * CHUNK_BYTES, manifest: Buffer.concat([chunk(1, CHUNK_BYTES), chunk(1, CHUNK_BYTES)]) })).toThrow(/out of order/);
    expect(() => checkOp({ ...op, size: FILE_BYTES_MAX + 1, manifest: EMPTY_MANIFEST })).toThrow(/file limit/);
    const full = packManifest([{ index: 0, hash: Buffer.alloc(32), size: CHUNK_BYTES }, { index: 1, hash: Buffer.alloc(32), size: 1 }]);
    expect(checkOp({ ...op, size: CHUNK_BYTES + 1, manifest: full }).kind).toBe('setContent');
  });

  it('takes holes: chunks a manifest does not list, however many', () => {
    const op = row('setContent');
    expect(checkOp({ ...op, size: FILE_BYTES_MAX, manifest: EMPTY_MANIFEST }).kind).toBe('setContent');
    const last = FILE_BYTES_MAX / CHUNK_BYTES - 1;
    const tail = packManifest([{ index: 2, hash: Buffer.alloc(32), size: CHUNK_BYTES }, { index: last, hash: Buffer.alloc(32), size: 1 }]);
    expect(checkOp({ ...op, size: last * CHUNK_BYTES + 1, manifest: tail }).kind).toBe('setContent');
    expect(() => checkOp({ ...op, size: last * CHUNK_BYTES + 2, manifest: tail })).toThrow(/must be 2 bytes/);
    // what st_blocks counts: the data chunks alone, the last one's size read from its record
    expect([EMPTY_MANIFEST, tail].map(manifestBytes)).toEqual([0, CHUNK_BYTES + 1]);
    const sizes = [1, 0x1234, CHUNK_BYTES - 1, CHUNK_BYTES];
    expect(sizes.map((size) => manifestBytes(packManifest([{ index: 0, hash: Buffer.alloc(32), size: CHUNK_BYTES }, { index: 1, hash: Buffer.alloc(32), size }]))))
      .toEqual(sizes.map((size) => CHUNK_BYTES + size));
  });

  it('rejects a removal that names too many heads', () => {
    const seen = Array.from({ length: REFS_COUNT_MAX + 1 }, (_, i) => `${ORIGIN}:${i + 1}`);
    expect(() => checkOp({ ...row('unlink (format 2)'), seen })).toThrow(/at most 1024 refs/);
    expect(checkOp({ ...row('unlink (format 2)'), seen: seen.slice(1) }).kind).toBe('unlink');
  });

  it('rejects bytes that are not msgpack', () => {
    expect(() => decodeOp(Buffer.from([0xc1]))).toThrow(OpFormatError);
  });
});
