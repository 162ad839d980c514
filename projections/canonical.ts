// The canonical tree: path -> kind, mode, owner, bytes, link target, xattrs, link count. Two
// replicas (or a replica and the reference model) hold the same filesystem iff these are equal.
import { sha256 } from '../log/index.ts';
import type { FileSystem } from './filesystem.ts';

export interface CanonicalEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  /** sha256 of the bytes (files), of the target (symlinks), else '' */
  digest: string;
  xattrs: Record<string, string>;
}

/** A name as text: UTF-8 when it round-trips, else with \xNN escapes for the other bytes. */
export function showName(name: Uint8Array): string {
  const text = Buffer.from(name).toString('utf8');
  if (Buffer.from(text, 'utf8').equals(name)) return text;
  return Array.from(name, (b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

export function canonicalTree(fs: FileSystem): CanonicalEntry[] {
  const out: CanonicalEntry[] = [];
  const visit = (ino: number, path: string) => {
    const attr = fs.lstat(ino);
    const xattrs: Record<string, string> = {};
    for (const name of fs.listxattr(ino)) xattrs[showName(name)] = Buffer.from(fs.getxattr(ino, name)).toString('hex');
    const digest = attr.type === 'file' ? sha256(fs.readFile(ino)).toString('hex') : attr.type === 'symlink' ? sha256(fs.readlink(ino)).toString('hex') : '';
    out.push({ path, type: attr.type, mode: attr.mode, uid: attr.uid, gid: attr.gid, nlink: attr.nlink, size: attr.type === 'dir' ? 0 : attr.size, digest, xattrs });
    if (attr.type !== 'dir') return;
    for (const entry of fs.readdir(ino)) visit(entry.ino, `${path === '/' ? '' : path}/${showName(entry.name)}`);
  };
  visit(1, '/');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
