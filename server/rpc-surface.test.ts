// The RPC surfaces are exactly the documented ones: what a session serves (every name on its
// target's prototype chain, which is what capnweb lets a peer call) equals the README's lists,
// internals of the objects behind them do not answer over a real WebSocket, and string
// arguments that are not valid Unicode are refused before anything changes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newWebSocketRpcSession, type RpcStub } from 'capnweb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FileSystem, openStore } from '../index.ts';
import { DIFF_EDIT_LINES_MAX } from '../log/index.ts';
import { ExecRunner } from './exec-runner.ts';
import { startHttpServer, type HttpServer } from './http-server.ts';
import { DURABLE_METHODS, durableSession } from './durable-object.ts';
import { SYNC_METHODS, syncSession } from './sync-service.ts';
import { WORKSPACE_METHODS, workspaceSession, type WorkspaceApi, type Workspace } from './workspace-service.ts';

/** The names a peer can reach: own names of each prototype above Object.prototype (capnweb refuses those, and instance properties). */
function callable(target: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(target); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) if (!(name in Object.prototype)) names.add(name);
  }
  return [...names].sort();
}

/** The names in the backticks of the README line that starts with `lead`. */
function documented(lead: string): string[] {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith(lead));
  if (!line) throw new Error(`README has no line starting ${JSON.stringify(lead)}`);
  return /`([^`]+)`/.exec(line)![1]!.split(/\s+/);
}

const sorted = (names: readonly string[]) => [...names].sort();

function workspace(): Workspace {
  const store = openStore();
  return { store, fs: FileSystem.live(store), execs: new ExecRunner({ logMaxBytes: 1024 }), mountPoint: null, env: {}, stats: () => ({}) };
}

describe('the RPC surfaces', () => {
  it('serve exactly what the README lists', () => {
    const sync = documented('- the sync surface');
    const wsd = [...sync, ...documented("- wsd's surface")];
    expect(sorted(SYNC_METHODS)).toEqual(sorted(sync));
    expect(sorted(WORKSPACE_METHODS)).toEqual(sorted(wsd));
    const ws = workspace();
    expect(callable(syncSession(ws.store).target)).toEqual(sorted(sync));
    expect(callable(workspaceSession(ws, 'test').target)).toEqual(sorted(wsd));
    expect(Object.getOwnPropertyNames(workspaceSession(ws, 'test').target)).toEqual([]);
    const durable = [...sync, ...documented("- the Durable Object's surface")];
    expect(sorted(DURABLE_METHODS)).toEqual(sorted(durable));
    expect(callable(durableSession({ store: ws.store, fs: ws.fs, r2: null, databaseBytes: () => 0 }, 'test').target)).toEqual(sorted(durable));
  });
});

describe('a wsd session over a WebSocket', () => {
  let ws: Workspace;
  let server: HttpServer;
  let api: RpcStub<WorkspaceApi>;
  const call = (name: string, ...args: unknown[]) => (api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args);
  const failure = async (promise: Promise<unknown>) => promise.then(() => null, (error: { code?: string; message: string }) => error);

  beforeAll(async () => {
    ws = workspace();
    server = await startHttpServer({ session: (caller) => workspaceSession(ws, caller) });
    api = newWebSocketRpcSession<WorkspaceApi>(new WebSocket(`ws://127.0.0.1:${server.port}/ws`) as unknown as globalThis.WebSocket);
  });

  afterAll(async () => {
    api[Symbol.dispose]();
    await server.close();
    ws.store.close();
  });

  it('does not answer for the internals of the objects behind it', async () => {
    await api.writeFile('/keep.txt', 'kept');
    const ops = ws.store.log.count();
    for (const name of ['withHandle', 'change', 'execCwd', 'announce', 'close', 'ws', 'fs', 'store', 'subscribers', 'unsubscribe', 'logWatchers', 'detachers']) {
      const error = await failure(call(name, '/sneaky.txt', 0o101, 0o7777, () => 0));
      expect([name, error?.message]).toEqual([name, expect.any(String)]);
    }
    expect(ws.store.log.count()).toBe(ops);
    expect(await api.exists('/sneaky.txt')).toBe(false);
    expect(new TextDecoder().decode(await api.readFile('/keep.txt'))).toBe('kept');
  });

  it('answers history, diff, blame and a read-only past filesystem; bad positions change nothing', async () => {
    await api.writeFile('/h.txt', 'one\n');
    const first = ws.store.log.seqOf(ws.store.origin);
    await api.writeFile('/h.tmp', 'one\ntwo\n');
    await api.rename('/h.tmp', '/h.txt');
    const page = await call('history', '/h.txt', { limit: 2 }) as { entries: Array<{ kind: string }>; more: boolean; cursor: string };
    expect(page).toMatchObject({ more: true, entries: [{ kind: 'create' }, { kind: 'setContent' }] });
    const rest = await call('history', '/h.txt', { after: page.cursor }) as { entries: Array<{ kind: string; actor: { kind: string } }> };
    expect(rest.entries.map((e) => e.kind)).toEqual(['create', 'setContent', 'move']);
    expect(rest.entries[0]!.actor).toMatchObject({ kind: 'rpc' });
    const diff = await call('diff', String(first), null, { patch: true }) as { changes: Array<{ status: string; path: string; patch: string }> };
    expect(diff.changes).toMatchObject([{ status: 'changed', path: '/h.txt', added: 1 }]);
    expect(diff.changes[0]!.patch).toContain('+two');
    expect(((await call('blame', '/h.txt')) as { lines: Array<{ text: string }> }).lines.map((l) => l.text)).toEqual(['one', 'two']);
    // Two unrelated texts: the server's diff gives up past DIFF_EDIT_LINES_MAX instead of taking seconds.
    const lines = (tag: string) => Array.from({ length: DIFF_EDIT_LINES_MAX }, (_, i) => `${tag} ${i}`).join('\n');
    await api.writeFile('/big.txt', lines('old'));
    const before = ws.store.log.seqOf(ws.store.origin);
    await api.writeFile('/big.txt', lines('new'));
    const big = await call('diff', String(before), null, { patch: true }) as { changes: Array<{ path: string; note?: string; patch?: string }> };
    expect(big.changes).toMatchObject([{ path: '/big.txt', note: 'too many edits' }]);
    expect(big.changes[0]!.patch).toBeUndefined();
    await api.unlink('/big.txt');
    const past = await call('at', String(first)) as Record<string, (...a: unknown[]) => Promise<unknown>>;
    expect(new TextDecoder().decode(await past.readFile!('/h.txt') as Uint8Array)).toBe('one\n');
    expect(await past.exists!('/h.tmp')).toBe(false);
    expect((await failure(past.writeFile!('/x', 'x')))?.message).toEqual(expect.any(String));
    const ops = ws.store.log.count();
    for (const [name, args] of [['diff', ['9999']], ['diff', ['1', 'later']], ['at', ['10y']], ['blame', ['/h.txt', 'ZZZZ:1']], ['history', ['/h.txt', { at: -1 }]], ['history', ['/h.txt', { after: 'x' }]], ['history', ['/h.txt', { limit: 1e9 }]]] as const) {
      expect([name, args, (await failure(call(name, ...args)))?.code]).toEqual([name, args, 'EINVAL']);
    }
    expect(ws.store.log.count()).toBe(ops);
    await api.unlink('/h.txt');
  });

  it('refuses strings that are not valid Unicode, and paths over PATH_MAX, changing nothing', async () => {
    const ops = ws.store.log.count();
    const calls: Array<[string, unknown[], string]> = [
      ['writeFile', ['/bad-\uD800.txt', 'x'], 'EINVAL'],
      ['writeFile', ['/ok.txt', 'lone \uDC00 in data'], 'EINVAL'],
      ['mkdir', ['/d\uDFFF', { recursive: true }], 'EINVAL'],
      ['symlink', ['target-\uD800', '/lnk'], 'EINVAL'],
      ['setxattr', ['/keep.txt', 'user.\uD800', 'v'], 'EINVAL'],
      ['rename', ['/keep.txt', '/moved-\uD800'], 'EINVAL'],
      ['writeFile', [`/${'a/'.repeat(2048)}f`, 'x'], 'ENAMETOOLONG'],
      ['execStart', ['echo \uD800'], 'EINVAL'],
      ['execStatus', [42], 'EINVAL'],
      ['subscribe', ['not a callback'], 'EINVAL'],
    ];
    for (const [name, args, code] of calls) expect([name, (await failure(call(name, ...args)))?.code]).toEqual([name, code]);
    expect(ws.store.log.count()).toBe(ops);
    expect((await api.readdir('/')).map((item: { name: string }) => item.name)).toEqual(['keep.txt']);
  });
});
