// Names the projections derive, a pure function of the op set and so the same on every replica:
// - duplicate names: concurrent ops can leave two entries with one name in a directory; the most
//   recently placed keeps the name and each other shows as `stem.dup-<origin>-<seq>.ext`, where
//   origin:seq is the entry's own id;
// - conflict copies: each losing concurrent edit of a file shows beside it as
//   `stem.conflict-<origin>-<seq>.ext`, where origin:seq is the losing setContent op.
import { isRef, type Ref } from '../log/index.ts';

export type NameMark = '.dup-' | '.conflict-';

export function derivedName(name: Uint8Array, mark: NameMark, ref: Ref): Uint8Array {
  const text = Buffer.from(name).toString('latin1');
  const dot = text.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [text.slice(0, dot), text.slice(dot)] : [text, ''];
  return Buffer.from(`${stem}${mark}${ref.replace(':', '-')}${ext}`, 'latin1');
}

/** The name a derived name was made from and the ref in it, or undefined. */
export function parseDerivedName(name: Uint8Array, mark: NameMark): { name: Uint8Array; ref: Ref } | undefined {
  if (Buffer.from(name.buffer, name.byteOffset, name.length).indexOf(mark) < 0) return undefined;
  const text = Buffer.from(name).toString('latin1');
  const at = text.lastIndexOf(mark);
  const match = /^([0-9A-HJKMNP-TV-Z]{26})-(\d+)(.*)$/.exec(text.slice(at + mark.length));
  if (!match) return undefined;
  const ref = `${match[1]}:${match[2]}`;
  if (!isRef(ref)) return undefined;
  return { name: Buffer.from(text.slice(0, at) + match[3], 'latin1'), ref };
}
