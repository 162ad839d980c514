// Names the projections derive, a pure function of the op set and so the same on every replica:
// - duplicate names: concurrent ops can leave two entries with one name in a directory; the most
//   recently placed keeps the name and each other shows as `stem.dup-<origin>-<seq>.ext`, where
//   origin:seq is the entry's own id;
// - conflict copies: each losing concurrent edit of a file shows beside it as
//   `stem.conflict-<origin>-<seq>.ext`, where origin:seq is the losing setContent op; beside a
//   duplicate name the copy carries both marks, `stem.dup-<entry>.conflict-<op>.ext`.
// Marks go between the stem and the extension of the entry's own name, and the stem is cut so
// that the whole stays within NAME_BYTES_MAX. Lookup never parses a derived name back into a
// name: it takes the refs the name carries, derives the name of what each names, and compares.
import { isRef, NAME_BYTES_MAX, type Ref } from '../log/index.ts';

export type NameMark = '.dup-' | '.conflict-';
export type Mark = readonly [NameMark, Ref];

const REF_TEXT = /^[0-9A-HJKMNP-TV-Z]{26}-\d+/;

export function derivedName(name: Uint8Array, marks: readonly Mark[]): Uint8Array {
  const text = Buffer.from(name).toString('latin1');
  const suffix = marks.map(([mark, ref]) => `${mark}${ref.replace(':', '-')}`).join('');
  const dot = text.lastIndexOf('.');
  let [stem, ext] = dot > 0 ? [text.slice(0, dot), text.slice(dot)] : [text, ''];
  if (stem.length + suffix.length + ext.length > NAME_BYTES_MAX) {
    if (suffix.length + ext.length >= NAME_BYTES_MAX) [stem, ext] = [text, ''];
    stem = cutUtf8(stem, NAME_BYTES_MAX - suffix.length - ext.length);
  }
  return Buffer.from(`${stem}${suffix}${ext}`, 'latin1');
}

/** The first `max` bytes of latin1-held bytes, not splitting a UTF-8 sequence. */
function cutUtf8(bytes: string, max: number): string {
  let end = max;
  while (end > 0 && (bytes.charCodeAt(end) & 0xc0) === 0x80) end--;
  return bytes.slice(0, end);
}

/** Every ref that follows `mark` somewhere in a name: the candidates a lookup checks. */
export function markedRefs(name: Uint8Array, mark: NameMark): Ref[] {
  const bytes = Buffer.from(name.buffer, name.byteOffset, name.byteLength);
  // most names carry no mark: the bytes are searched before any text is made of them
  if (bytes.indexOf(mark, 0, 'latin1') < 0) return [];
  const text = bytes.toString('latin1');
  const refs: Ref[] = [];
  for (let at = text.indexOf(mark); at >= 0; at = text.indexOf(mark, at + 1)) {
    const match = REF_TEXT.exec(text.slice(at + mark.length));
    const ref = match && match[0].replace('-', ':');
    if (ref && isRef(ref)) refs.push(ref);
  }
  return refs;
}
