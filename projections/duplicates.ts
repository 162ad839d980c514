// Duplicate names. Concurrent ops can leave two entries with one name in a directory; the most
// recently placed keeps the name and each other shows as `stem.dup-<origin>-<seq>.ext`, where
// origin:seq is the entry's own id: a pure function of the op set, the same on every replica.
import { isRef, type Ref } from '../log/index.ts';

const MARK = '.dup-';

export function duplicateName(name: Uint8Array, entry: Ref): Uint8Array {
  const text = Buffer.from(name).toString('latin1');
  const dot = text.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [text.slice(0, dot), text.slice(dot)] : [text, ''];
  return Buffer.from(`${stem}${MARK}${entry.replace(':', '-')}${ext}`, 'latin1');
}

export function parseDuplicateName(name: Uint8Array): { name: Uint8Array; ref: Ref } | undefined {
  if (Buffer.from(name.buffer, name.byteOffset, name.length).indexOf(MARK) < 0) return undefined;
  const text = Buffer.from(name).toString('latin1');
  const at = text.lastIndexOf(MARK);
  if (at < 0) return undefined;
  const match = /^([0-9A-HJKMNP-TV-Z]{26})-(\d+)(.*)$/.exec(text.slice(at + MARK.length));
  if (!match) return undefined;
  const ref = `${match[1]}:${match[2]}`;
  if (!isRef(ref)) return undefined;
  return { name: Buffer.from(text.slice(0, at) + match[3], 'latin1'), ref };
}
