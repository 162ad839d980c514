// Filesystem calls as data, with fast-check arbitraries, applied to the reference model or to
// a real FileSystem. Paths come from a tiny namespace so that calls collide often.
import fc from 'fast-check';
import { CHUNK_BYTES } from '../log/index.ts';
import { FsError, openFlags, type FileSystem } from '../projections/index.ts';
import { Model, ModelError } from './model.ts';

export type Call =
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'writeFile'; path: string; data: Uint8Array; exclusive: boolean }
  | { op: 'writeAt'; path: string; offset: number; data: Uint8Array }
  | { op: 'writeUnlinked'; path: string; offset: number; data: Uint8Array }
  | { op: 'truncate'; path: string; size: number }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'link'; from: string; path: string }
  | { op: 'unlink'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rename'; from: string; to: string; flags: number }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'chown'; path: string; uid: number; gid: number }
  | { op: 'setxattr'; path: string; name: string; value: Uint8Array }
  | { op: 'removexattr'; path: string; name: string };

/** One name has an extension: derived names (duplicates, conflict copies) go before it. */
const name = fc.constantFrom('a', 'b', 'c.md');
/** Shallow paths are likelier, so that most calls find their parent and succeed. */
export const pathArb = fc.oneof(
  { weight: 4, arbitrary: name.map((a) => `/${a}`) },
  { weight: 3, arbitrary: fc.tuple(name, name).map(([a, b]) => `/${a}/${b}`) },
  { weight: 1, arbitrary: fc.tuple(name, name, name).map(([a, b, c]) => `/${a}/${b}/${c}`) },
);
const targetArb = fc.oneof(pathArb, fc.constantFrom('a', '../a', 'b/c.md', '.', '..'));
const dataArb = fc.uint8Array({ maxLength: 24 });
const offsetArb = fc.oneof({ weight: 9, arbitrary: fc.nat(48) }, { weight: 1, arbitrary: fc.constant(CHUNK_BYTES - 3) });
const sizeArb = fc.oneof({ weight: 9, arbitrary: fc.nat(48) }, { weight: 1, arbitrary: fc.constant(CHUNK_BYTES + 1) });
const modeArb = fc.constantFrom(0o755, 0o700, 0o644, 0o4750);
const xattrArb = fc.constantFrom('user.a', 'user.b');

export const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ op: fc.constant('mkdir' as const), path: pathArb, mode: modeArb }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('writeFile' as const), path: pathArb, data: dataArb, exclusive: fc.boolean() }) },
  fc.record({ op: fc.constant('writeAt' as const), path: pathArb, offset: offsetArb, data: dataArb }),
  fc.record({ op: fc.constant('writeUnlinked' as const), path: pathArb, offset: offsetArb, data: dataArb }),
  fc.record({ op: fc.constant('truncate' as const), path: pathArb, size: sizeArb }),
  fc.record({ op: fc.constant('symlink' as const), target: targetArb, path: pathArb }),
  fc.record({ op: fc.constant('link' as const), from: pathArb, path: pathArb }),
  fc.record({ op: fc.constant('unlink' as const), path: pathArb }),
  fc.record({ op: fc.constant('rmdir' as const), path: pathArb }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), from: pathArb, to: pathArb, flags: fc.constantFrom(0, 0, 1, 2) }) },
  fc.record({ op: fc.constant('chmod' as const), path: pathArb, mode: modeArb }),
  fc.record({ op: fc.constant('chown' as const), path: pathArb, uid: fc.nat(3), gid: fc.nat(3) }),
  fc.record({ op: fc.constant('setxattr' as const), path: pathArb, name: xattrArb, value: dataArb }),
  fc.record({ op: fc.constant('removexattr' as const), path: pathArb, name: xattrArb }),
);

const buf = (data: Uint8Array) => Buffer.from(data);

export function applyModel(model: Model, call: Call): void {
  switch (call.op) {
    case 'mkdir': return model.mkdir(call.path, call.mode);
    case 'writeFile': return model.writeFile(call.path, buf(call.data), 0o644, call.exclusive);
    case 'writeAt': return model.writeAt(call.path, call.offset, buf(call.data));
    case 'writeUnlinked': return model.writeUnlinked(call.path, call.offset, buf(call.data));
    case 'truncate': return model.truncate(call.path, call.size);
    case 'symlink': return model.symlink(call.target, call.path);
    case 'link': return model.link(call.from, call.path);
    case 'unlink': return model.unlink(call.path);
    case 'rmdir': return model.rmdir(call.path);
    case 'rename': return model.rename(call.from, call.to, call.flags);
    case 'chmod': return model.chmod(call.path, call.mode);
    case 'chown': return model.chown(call.path, call.uid, call.gid);
    case 'setxattr': return model.setxattr(call.path, call.name, buf(call.value));
    case 'removexattr': return model.removexattr(call.path, call.name);
  }
}

export function applyReal(fs: FileSystem, call: Call): void {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_EXCL } = openFlags;
  switch (call.op) {
    case 'mkdir': fs.mkdir(call.path, call.mode); return;
    case 'writeFile': {
      const fh = fs.open(call.path, O_WRONLY | O_CREAT | O_TRUNC | (call.exclusive ? O_EXCL : 0), 0o644);
      try {
        fs.write(fh, call.data, 0);
      } finally {
        fs.release(fh);
      }
      return;
    }
    case 'writeAt': {
      const fh = fs.open(call.path, O_WRONLY);
      try {
        fs.write(fh, call.data, call.offset);
      } finally {
        fs.release(fh);
      }
      return;
    }
    case 'writeUnlinked': {
      // Open, remove the name, then write through the handle: the write must not bring it back.
      const fh = fs.open(call.path, O_WRONLY);
      try {
        fs.unlink(call.path);
        fs.write(fh, call.data, call.offset);
      } finally {
        fs.release(fh);
      }
      return;
    }
    case 'truncate': fs.truncate(call.path, call.size); return;
    case 'symlink': fs.symlink(call.target, call.path); return;
    case 'link': fs.link(call.from, call.path); return;
    case 'unlink': fs.unlink(call.path); return;
    case 'rmdir': fs.rmdir(call.path); return;
    case 'rename': fs.rename(call.from, call.to, call.flags); return;
    case 'chmod': fs.chmod(call.path, call.mode); return;
    case 'chown': fs.chown(call.path, call.uid, call.gid); return;
    case 'setxattr': fs.setxattr(call.path, call.name, call.value); return;
    case 'removexattr': fs.removexattr(call.path, call.name); return;
  }
}

/** 'ok' or the POSIX code a call failed with; anything else is a bug and is rethrown. */
export function outcome(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof FsError || error instanceof ModelError) return error.code;
    throw error;
  }
}
