// Malformed calls on the filesystem, log and sync surface every replica serves (wsd, the Durable
// Object): each must be refused (EINVAL, or the codec's or chunk store's own error) and change
// nothing. A test adds the calls of its own surface and checks the op count before and after.
import type { RpcStub } from 'capnweb';
import type { FilesystemService } from '../../server/filesystem-service.ts';

export function malformedCalls(api: RpcStub<FilesystemService>): Array<[string, () => Promise<unknown>]> {
  return [
    ['writeFile path', () => api.writeFile(42 as never, 'x')],
    ['writeFile data', () => api.writeFile('/keep.txt', { not: 'bytes' } as never)],
    ['writeFile option', () => api.writeFile('/keep.txt', 'x', { mode: 'rw' } as never)],
    ['unknown option', () => api.mkdir('/new', { parents: true } as never)],
    ['rename target', () => api.rename('/keep.txt', null as never)],
    ['chmod mode', () => api.chmod('/keep.txt', 0o10000)],
    ['truncate size', () => api.truncate('/keep.txt', -1)],
    ['empty path', () => api.unlink('')],
    ['utimes', () => api.utimes('/keep.txt', 'now' as never, 0)],
    ['log cursor', () => api.log({ nope: 1 } as never)],
    ['push', () => api.push([new Uint8Array([1, 2, 3])])],
    ['pull', () => api.pull('everything' as never)],
    ['chunks', () => api.chunks([new Uint8Array(3)])],
    ['putChunk', () => api.putChunk(new Uint8Array(32), new Uint8Array(1))],
    ['snapshot', () => api.snapshot(0)],
  ];
}
