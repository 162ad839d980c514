// The @platformatic/vfs provider: a Node process reads, writes and imports from a store
// in-process; every change is an op in the store's log.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';
import { createVfs } from './index.ts';

function fresh() {
  const store = openStore();
  const fs = FileSystem.live(store, { kind: 'tool', id: 'vfs-test' });
  return { store, fs, vfs: createVfs(fs) };
}

describe('vfs provider', () => {
  it('reads and writes through fs-shaped calls, one op per change', () => {
    const { store, fs, vfs } = fresh();
    vfs.mkdirSync('/src/lib', { recursive: true });
    vfs.writeFileSync('/src/lib/a.txt', 'hello');
    expect(vfs.readFileSync('/src/lib/a.txt', 'utf8')).toBe('hello');
    expect(Buffer.from(fs.readFile('/src/lib/a.txt')).toString()).toBe('hello');
    vfs.renameSync('/src/lib/a.txt', '/src/b.txt');
    expect(vfs.readdirSync('/src')).toEqual(['b.txt', 'lib']);
    const stat = vfs.statSync('/src/b.txt');
    expect(stat.isFile()).toBe(true);
    expect(stat.size).toBe(5);
    vfs.unlinkSync('/src/b.txt');
    expect(vfs.existsSync('/src/b.txt')).toBe(false);
    expect(() => vfs.readFileSync('/nope')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect([...store.log.scan()].map((s) => s.op.kind)).toEqual(['create', 'create', 'create', 'setContent', 'move', 'unlink']);
    expect([...store.log.scan()].every((s) => s.op.actor.id === 'vfs-test')).toBe(true);
    expect(store.verify().ok).toBe(true);
  });

  it('lets require and import load modules from the store (in a real Node process)', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { FileSystem, openStore } from ${JSON.stringify(join(import.meta.dirname, '../index.ts'))};
      import { createVfs } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
      const vfs = createVfs(FileSystem.live(openStore()));
      vfs.mkdirSync('/app');
      vfs.writeFileSync('/app/helper.cjs', 'module.exports = { answer: 41 + 1 };');
      vfs.writeFileSync('/app/main.mjs', 'import helper from "./helper.cjs"; export const answer = helper.answer;');
      vfs.mount('/ledger-vfs');
      const required = createRequire(import.meta.url)('/ledger-vfs/app/helper.cjs').answer;
      const imported = (await import('/ledger-vfs/app/main.mjs')).answer;
      console.log(JSON.stringify({ required, imported }));
      vfs.unmount();`;
    const result = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ required: 42, imported: 42 });
  });
});
