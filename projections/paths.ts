// Path and name handling: names are bytes (any byte but '/' and NUL); strings are UTF-8.
import { NAME_BYTES_MAX } from '../log/index.ts';
import { FsError } from './errors.ts';

export type PathLike = string | Uint8Array;

const SLASH = 0x2f;
const DOT = 0x2e;

/** The UTF-8 bytes of a string; EINVAL for one with a lone UTF-16 surrogate, which UTF-8 cannot carry (it would silently become U+FFFD). */
export function toBytes(value: PathLike, syscall = 'encode'): Uint8Array {
  if (typeof value !== 'string') return value;
  if (!value.isWellFormed()) throw new FsError('EINVAL', syscall, JSON.stringify(value), 'a lone surrogate is not UTF-8');
  return Buffer.from(value, 'utf8');
}

export function pathText(value: PathLike): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

export function isDot(name: Uint8Array): boolean {
  return name.length === 1 && name[0] === DOT;
}

export function isDotDot(name: Uint8Array): boolean {
  return name.length === 2 && name[0] === DOT && name[1] === DOT;
}

/** Splits a path into its non-empty components; `trailingSlash` says the last must be a dir. */
export function splitPath(path: PathLike, syscall: string): { parts: Uint8Array[]; trailingSlash: boolean } {
  const bytes = toBytes(path, syscall);
  if (bytes.length === 0) throw new FsError('ENOENT', syscall, '', 'empty path');
  if (bytes.includes(0)) throw new FsError('EINVAL', syscall, pathText(path), 'NUL byte in path');
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== SLASH) continue;
    if (i > start) {
      if (i - start > NAME_BYTES_MAX) throw new FsError('ENAMETOOLONG', syscall, pathText(path));
      parts.push(bytes.subarray(start, i));
    }
    start = i + 1;
  }
  return { parts, trailingSlash: bytes[bytes.length - 1] === SLASH };
}

/** Checks one name for an entry-creating call. */
export function checkName(name: PathLike, syscall: string): Uint8Array {
  const bytes = toBytes(name, syscall);
  if (bytes.length === 0) throw new FsError('ENOENT', syscall, '', 'empty name');
  if (bytes.length > NAME_BYTES_MAX) throw new FsError('ENAMETOOLONG', syscall, pathText(name));
  if (bytes.includes(0) || bytes.includes(SLASH)) throw new FsError('EINVAL', syscall, pathText(name), "name contains '/' or NUL");
  return bytes;
}
