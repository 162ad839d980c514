import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';
import { fuseUnavailable, mountWorkspace, parseMountMode, ShimMount } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-shim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const store = openStore();
  const fs = FileSystem.live(store);
  fs.mkdir('/src');
  fs.writeFile('/src/a.txt', 'from the store', 0o640);
  fs.symlink('a.txt', '/src/link');
  const mnt = join(dir, `mnt${n++}`);
  return { store, fs, mnt };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('shim', () => {
  it('leaves a write made while a pass copies the file to the next pass, instead of taking it as copied', () => {
    const { fs, mnt } = setup();
    const shim = ShimMount.start(fs, mnt, { intervalMs: 60_000 });
    try {
      writeFileSync(join(mnt, 'src/a.txt'), 'first');
      const write = fs.write.bind(fs);
      let raced = false;
      // Another process writes the file after the pass read it, before the pass ends.
      fs.write = (fh, data, offset) => {
        if (!raced) writeFileSync(join(mnt, 'src/a.txt'), 'second, longer');
        raced = true;
        return write(fh, data, offset);
      };
      shim.sync();
      expect(raced).toBe(true);
      fs.write = write;
      expect(shim.sync().pushed).toBe(1);
      expect(text(fs.readFile('/src/a.txt'))).toBe('second, longer');
    } finally {
      shim.close();
    }
  });

  it('materialises the store and applies changes both ways', () => {
    const { store, fs, mnt } = setup();
    const shim = ShimMount.start(fs, mnt, { intervalMs: 60_000 });
    try {
      expect(readFileSync(join(mnt, 'src/a.txt'), 'utf8')).toBe('from the store');
      expect(lstatSync(join(mnt, 'src/a.txt')).mode & 0o777).toBe(0o640);
      expect(readlinkSync(join(mnt, 'src/link'))).toBe('a.txt');

      writeFileSync(join(mnt, 'src/a.txt'), 'edited in the directory');
      mkdirSync(join(mnt, 'new/deep'), { recursive: true });
      writeFileSync(join(mnt, 'new/deep/f'), 'x'.repeat(3 * 1024 * 1024));
      renameSync(join(mnt, 'src/link'), join(mnt, 'src/link2'));
      expect(shim.sync().pushed).toBeGreaterThanOrEqual(5);
      expect(text(fs.readFile('/src/a.txt'))).toBe('edited in the directory');
      expect(fs.stat('/new/deep/f').size).toBe(3 * 1024 * 1024);
      expect(fs.exists('/src/link')).toBe(false);
      expect(text(fs.readlink('/src/link2'))).toBe('a.txt');

      fs.writeFile('/src/api.txt', 'written through the API');
      fs.unlink('/new/deep/f');
      fs.rmdir('/new/deep');
      fs.chmod('/src/a.txt', 0o600);
      expect(shim.sync().pulled).toBeGreaterThanOrEqual(3);
      expect(readFileSync(join(mnt, 'src/api.txt'), 'utf8')).toBe('written through the API');
      expect(existsSync(join(mnt, 'new/deep'))).toBe(false);
      expect(lstatSync(join(mnt, 'src/a.txt')).mode & 0o777).toBe(0o600);

      rmSync(join(mnt, 'new'), { recursive: true });
      unlinkSync(join(mnt, 'src/api.txt'));
      expect(shim.sync()).toEqual({ pushed: 2, pulled: 0 });
      expect(fs.exists('/new')).toBe(false);
      expect(shim.sync()).toEqual({ pushed: 0, pulled: 0 });
    } finally {
      shim.close();
    }
    expect(store.verify().ok).toBe(true);
  });

  it('lets the directory win when both sides changed a file', () => {
    const { fs, mnt } = setup();
    const shim = ShimMount.start(fs, mnt, { intervalMs: 60_000 });
    try {
      writeFileSync(join(mnt, 'src/a.txt'), 'directory');
      fs.writeFile('/src/a.txt', 'store');
      shim.sync();
      expect(text(fs.readFile('/src/a.txt'))).toBe('directory');
      expect(readFileSync(join(mnt, 'src/a.txt'), 'utf8')).toBe('directory');
    } finally {
      shim.close();
    }
  });
});

describe('mount modes', () => {
  it('parses FUSE_MOUNT and explains a bad value', () => {
    expect(parseMountMode(undefined)).toBe('auto');
    expect(parseMountMode('shim')).toBe('shim');
    expect(() => parseMountMode('yes')).toThrow(/FUSE_MOUNT must be one of auto, fuse, shim, none/);
  });

  it('fails clearly in fuse mode without FUSE, falls back to the shim in auto mode', async () => {
    const { fs, mnt } = setup();
    expect(fuseUnavailable('/nonexistent/fuse')).toMatch(/\/nonexistent\/fuse is not usable \(ENOENT\)/);
    await expect(mountWorkspace(fs, mnt, 'fuse', { device: '/nonexistent/fuse' })).rejects.toThrow(/FUSE_MOUNT=fuse but kernel FUSE is not available/);
    const auto = await mountWorkspace(fs, mnt, 'auto', { device: '/nonexistent/fuse' });
    expect(auto.backend).toBe('shim');
    expect(readFileSync(join(mnt, 'src/a.txt'), 'utf8')).toBe('from the store');
    await auto.close();
    expect((await mountWorkspace(fs, mnt, 'none')).backend).toBe('none');
  });
});
