// Workspace paths, as @cloudflare/shell spells them: always absolute, `.` and empty parts
// dropped, `..` taken lexically (it never goes above the root), at most 4,096 characters.
import { WORKSPACE_PATH_CHARS_MAX } from '../log/index.ts';
import { FsError } from './errors.ts';

/** An empty part, a `.` or `..` part, or a trailing slash: what normalizing changes in an absolute path. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|\/$/;

export function normalizePath(path: unknown, syscall: string): string {
  if (typeof path !== 'string') throw new FsError('EINVAL', syscall, undefined, `a path is a string, got ${typeof path}`);
  // most paths come normalized already: no split and join for them
  if (path.startsWith('/') && path.length <= WORKSPACE_PATH_CHARS_MAX && !NOT_NORMAL.test(path)) return path;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  const normalized = `/${parts.join('/')}`;
  if (normalized.length > WORKSPACE_PATH_CHARS_MAX) throw new FsError('ENAMETOOLONG', syscall, undefined, `a path is at most ${WORKSPACE_PATH_CHARS_MAX} characters`);
  return normalized;
}

/** The parent of a normalized path ('' for the root). */
export function parentOf(path: string): string {
  if (path === '/') return '';
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export const joinPath = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** `path` is `dir` or under it. */
export const isWithin = (path: string, dir: string): boolean => path === dir || dir === '/' || path.startsWith(`${dir}/`);

/**
 * The directory a glob can only match under: the part before the first wildcard, up to its
 * last slash; a pattern without wildcards is returned whole (it names one path).
 */
export function globBase(pattern: string): { dir: string; exact: boolean } {
  const first = pattern.search(/[*?[{]/);
  if (first === -1) return { dir: pattern, exact: true };
  const before = pattern.slice(0, first);
  const dir = before.slice(0, before.lastIndexOf('/') + 1);
  return { dir: dir.length > 1 ? dir.slice(0, -1) : '/', exact: false };
}

/** Sorts like SQLite sorts TEXT: by UTF-8 bytes (JavaScript compares UTF-16 units). */
export const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
