// Global identities and their local packed form.
//
// An op is identified by (origin, seq); its global form is the string `${origin}:${seq}`.
// Nodes and entries are named by the op that created them. Inside one store every origin gets
// a small local number, and an id is packed as `originNum * 2^32 + seq`: an exact double, usable
// as a SQLite INTEGER key and as a FUSE inode number. Packing is local; anything that leaves a
// store (ops, canonical dumps) uses global refs.
import { ulid } from 'ulid';
import { assert } from './assert.ts';
import { ORIGIN_NUM_MAX, SEQ_MAX } from './limits.ts';

/** Global id of an op, node or entry: `${origin}:${seq}`, or one of the two fixed roots. */
export type Ref = string;

export const ROOT_REF: Ref = 'root';
export const TRASH_REF: Ref = 'trash';
/** Packed ids of the fixed roots (origin number 0); FUSE requires the root inode to be 1. */
export const ROOT_ID = 1;
export const TRASH_ID = 2;

const ORIGIN_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function isOrigin(value: unknown): value is string {
  return typeof value === 'string' && ORIGIN_RE.test(value);
}

/** A new replica identity: one ULID per database incarnation. Never used for ordering. */
export function newOrigin(seedTime?: number): string {
  return ulid(seedTime);
}

export function formatRef(origin: string, seq: number): Ref {
  return `${origin}:${seq}`;
}

export function parseRef(ref: Ref): { origin: string; seq: number } {
  const colon = ref.indexOf(':');
  const origin = ref.slice(0, colon);
  const seq = Number(ref.slice(colon + 1));
  if (colon !== 26 || !isOrigin(origin) || !Number.isInteger(seq) || seq < 1 || seq > SEQ_MAX) {
    throw new TypeError(`not an op ref: ${JSON.stringify(ref)}`);
  }
  return { origin, seq };
}

/** Origins already seen valid: refs repeat a handful of origins, so most checks skip the regex. */
const validOrigins = new Set<string>();
const ORIGINS_REMEMBERED_MAX = 4096;

export function isRef(value: unknown): value is Ref {
  if (value === ROOT_REF || value === TRASH_REF) return true;
  if (typeof value !== 'string' || value.length < 28 || value.length > 37 || value.charCodeAt(26) !== 0x3a) return false;
  const origin = value.slice(0, 26);
  if (!validOrigins.has(origin)) {
    if (!isOrigin(origin)) return false;
    if (validOrigins.size >= ORIGINS_REMEMBERED_MAX) validOrigins.clear();
    validOrigins.add(origin);
  }
  const seq = Number(value.slice(27));
  return Number.isInteger(seq) && seq >= 1 && seq <= SEQ_MAX && String(seq) === value.slice(27);
}

export function packId(originNum: number, seq: number): number {
  assert(Number.isInteger(originNum) && originNum >= 1 && originNum <= ORIGIN_NUM_MAX, `origin number ${originNum}`);
  assert(Number.isInteger(seq) && seq >= 1 && seq <= SEQ_MAX, `seq ${seq}`);
  return originNum * 2 ** 32 + seq;
}

export function unpackId(id: number): { originNum: number; seq: number } {
  return { originNum: Math.floor(id / 2 ** 32), seq: id % 2 ** 32 };
}
