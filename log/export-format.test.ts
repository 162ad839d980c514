// The export file's framing and records: the preamble pinned byte for byte, each record round
// trips, and a reader refuses what is not a well-formed export, naming what is wrong.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeRecord, EXPORT_OPS_RECORD_BYTES_MAX, EXPORT_RECORD_BYTES_MAX, OP_PAGE_COUNT, preamble, readRecords, type ExportHeader, type ExportRecord } from './index.ts';

const ORIGIN = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3F';
const header: ExportHeader = {
  origin: ORIGIN, at: `0193b8a1c2d4.0000.${ORIGIN}`, layout: 2, checkpoint: null, ops: 1, chunks: 1,
  versionVector: { [ORIGIN]: 1 }, fingerprint: 'a'.repeat(64), state: 'b'.repeat(64),
};
const records: ExportRecord[] = [
  { type: 'header', header },
  { type: 'page', n: 0, bytes: Buffer.from([1, 2]) },
  { type: 'chunk', hash: Buffer.alloc(32, 7), data: Buffer.from([3]) },
  { type: 'ops', ops: [Buffer.from([4, 5])] },
  { type: 'end' },
];

const file = (...parts: Uint8Array[]) => Buffer.concat([preamble(), ...parts]);
const read = (bytes: Uint8Array) => [...readRecords(bytes.length, (offset, length) => bytes.subarray(offset, offset + length))];
const framed = (value: unknown, packr = new Packr({ useRecords: false })) => {
  const body = packr.pack(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
};

/** An ops record whose one op is repeated by msgpackr's structured-clone back-references. */
const cloned = () => {
  const op = Buffer.alloc(64, 1);
  return framed(['ops', Array(1000).fill(op)], new Packr({ useRecords: false, structuredClone: true }));
};

describe('export format', () => {
  it('starts with the magic and format 1, and reads back every record it writes', () => {
    expect(Buffer.from(preamble()).toString('hex')).toBe('894c4653580d0a1a00000001');
    expect(read(file(...records.map(encodeRecord)))).toEqual(records);
  });

  it('refuses what is not a well-formed export, naming what is wrong', () => {
    const [head, page, chunk, , end] = records.map(encodeRecord) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const newer = Buffer.from(preamble());
    newer[11] = 2;
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(EXPORT_RECORD_BYTES_MAX + 1);
    const cases: Array<[Uint8Array, RegExp]> = [
      [Buffer.concat([newer, head, end]), /export of format 2; this ledgerfs reads format 1/],
      [file(page, end), /byte 12 is a page record, not the header/],
      [file(head, head, end), /a second header/],
      [file(head, end, new Uint8Array(3)), /3 bytes follow its end record/],
      [file(head, page), /is truncated: it ends at byte \d+, before its end record/],
      [file(head, huge), /claims \d+ bytes, more than any record holds/],
      [file(head, framed(['chunk', new Uint8Array(31), new Uint8Array(1)]), end), /a chunk record is not \[32-byte hash/],
      [file(head, framed(['frobnicate']), end), /unknown type "frobnicate"/],
      [file(head, framed(['end', 1])), /its end record has 1 fields, not 0/],
      [file(framed(['header', { ...header, fingerprint: 'nope' }]), end), /its header has a bad fingerprint/],
      [file(head, new Uint8Array([0, 0, 0, 2, 0x92, 0xa3]), end), /is not one msgpack value/],
      [file(head, chunk.subarray(0, 40)), /is truncated: the record at byte \d+ runs past its end/],
      // msgpackr's back-references: a few bytes that would decode to a million copies of one op
      [file(head, cloned(), end), /is not one msgpack value/],
      [file(head, framed(['ops', Array(OP_PAGE_COUNT + 1).fill(Buffer.alloc(1))]), end), /holds 4097 ops, more than 4096/],
      [file(head, framed(['ops', [Buffer.alloc(EXPORT_OPS_RECORD_BYTES_MAX), Buffer.alloc(1)]]), end), /holds more than \d+ bytes of ops/],
    ];
    for (const [bytes, message] of cases) expect(() => read(bytes)).toThrow(message);
  });
});
