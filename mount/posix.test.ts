// POSIX behaviour the kernel shows through a real FUSE mount, where libfuse 2's path API would
// otherwise get in the way: path lengths, hard links' attributes, single-time utimensat, the
// ctime of ftruncate, and xattrs of symlinks (never their targets').
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';
import { mountFresh, removeDir, type Mounted } from '../spec/harness/mounted.ts';

let m: Mounted;

beforeAll(async () => {
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: these tests need kernel FUSE');
  m = await mountFresh('ledgerfs-posix-');
});

afterAll(async () => {
  if (!m) return;
  await m.stop();
  removeDir(m.dir);
});

const python = (script: string) => m.sh(`cd ${m.mnt} && python3 -c '${script.replaceAll("'", "'\\''")}'`);

describe('POSIX on the mount', () => {
  it('takes a 4,095-byte path relative to a directory deep in the mount (NAME_MAX still holds)', () => {
    const out = python(`
import errno, os
for i in range(12):
    name = "%03d" % i + "d" * 250
    os.mkdir(name)
    os.chdir(name)
rel = "/".join(["%03d" % i + "r" * 250 for i in range(16)])
os.makedirs(rel)
rel += "/" + "f" * (4095 - len(rel) - 1)
assert len(rel) == 4095, len(rel)
with open(rel, "w") as f:
    f.write("deep")
print(open(rel).read(), len(os.getcwd()) + len(rel) > 4096 * 1.5)
try:
    os.mkdir("n" * 256)
except OSError as e:
    print(errno.errorcode[e.errno])
`);
    expect(out).toBe('deep True\nENAMETOOLONG\n');
  });

  it('shows a change made through one name of a hard link on the other at once', () => {
    m.sh(`cd ${m.mnt} && echo shared > a && stat a > /dev/null && ln a b`);
    expect(m.sh(`stat -c '%h %a' ${m.mnt}/a`)).toBe('2 644\n');
    m.sh(`chmod 0600 ${m.mnt}/b`);
    expect(m.sh(`stat -c '%h %a' ${m.mnt}/a`)).toBe('2 600\n');
    m.sh(`echo longer content > ${m.mnt}/b && rm ${m.mnt}/b`);
    expect(m.sh(`stat -c '%h %s' ${m.mnt}/a`)).toBe('1 15\n');
  });

  it('changes only the time asked for with touch -a and touch -m', () => {
    const times = () => m.sh(`stat -c '%X %Y' ${m.mnt}/t`).trim();
    m.sh(`touch -d @1000000000 ${m.mnt}/t`);
    expect(times()).toBe('1000000000 1000000000');
    m.sh(`touch -a -d @1100000000 ${m.mnt}/t`);
    expect(times()).toBe('1100000000 1000000000');
    m.sh(`touch -m -d @1200000000 ${m.mnt}/t`);
    expect(times()).toBe('1100000000 1200000000');
    m.sh(`touch -a ${m.mnt}/t`); // UTIME_NOW for atime, UTIME_OMIT for mtime
    const [atime, mtime] = times().split(' ').map(Number);
    expect([atime! > 1_700_000_000, mtime]).toEqual([true, 1200000000]);
  });

  it('shows the ctime and mtime of ftruncate at once, open or closed', () => {
    const out = python(`
import os, time
with open("tr", "w") as f:
    f.write("some bytes")
before = os.stat("tr").st_ctime_ns
time.sleep(0.02)
fd = os.open("tr", os.O_RDWR)
os.ftruncate(fd, 2)
print(os.fstat(fd).st_ctime_ns > before, os.stat("tr").st_ctime_ns > before, os.stat("tr").st_mtime_ns > before)
os.close(fd)
print(os.stat("tr").st_ctime_ns > before, os.stat("tr").st_size)
`);
    expect(out).toBe('True True True\nTrue 2\n');
  });

  it('keeps the pages it wrote cached, and drops those another name of the file made stale', () => {
    // fincore opens the file, and its open decides: kept pages show as resident.
    const resident = (name: string) => Number(m.sh(`fincore --raw --noheadings --output PAGES ${m.mnt}/${name}`).trim());
    m.sh(`head -c 1048576 /dev/urandom > ${m.dir}/random && cp ${m.dir}/random ${m.mnt}/big`);
    expect(resident('big')).toBe(256);
    m.sh(`cmp ${m.dir}/random ${m.mnt}/big && dd if=/dev/zero of=${m.mnt}/big bs=4096 count=1 conv=notrunc status=none`);
    expect(resident('big')).toBe(256);
    expect(m.sh(`head -c 4 ${m.mnt}/big | od -An -tx1`).trim()).toBe('00 00 00 00');

    // Same size, so the kernel's size check cannot drop them: only the open's answer does.
    m.sh(`cd ${m.mnt} && echo AAAA > h1 && ln h1 h2 && cat h2 > /dev/null`);
    m.sh(`cd ${m.mnt} && echo BBBB > h1`);
    expect(m.sh(`cat ${m.mnt}/h2`)).toBe('BBBB\n');
    m.sh(`printf CC | dd of=${m.mnt}/h2 conv=notrunc status=none`);
    expect(m.sh(`cat ${m.mnt}/h1 ${m.mnt}/h2`)).toBe('CCBB\nCCBB\n');
    m.sh(`cd ${m.mnt} && mkdir -p pd && mv h1 pd/h3 && printf DD | dd of=h2 conv=notrunc status=none`);
    expect(m.sh(`cat ${m.mnt}/pd/h3`)).toBe('DDBB\n');
  });

  it('keeps the xattrs of a symlink its own: llistxattr, ls -l of a dangling link, tar --xattrs', () => {
    const out = python(`
import os
with open("target", "w") as f:
    f.write("x")
os.setxattr("target", "user.k", b"v")
os.symlink("target", "lnk")
os.symlink("/nonexistent", "dangling")
os.setxattr("lnk", "trusted.own", b"mine", follow_symlinks=False)
print(sorted(os.listxattr("lnk")), os.listxattr("lnk", follow_symlinks=False), os.listxattr("dangling", follow_symlinks=False))
print(os.getxattr("lnk", "trusted.own", follow_symlinks=False), os.getxattr("lnk", "user.k"))
`);
    expect(out).toBe("['user.k'] ['trusted.own'] []\nb'mine' b'v'\n");
    const ls = spawnSync('ls', ['-l', `${m.mnt}/dangling`], { encoding: 'utf8' });
    expect([ls.status, ls.stderr]).toEqual([0, '']);
    const tar = spawnSync('tar', ['--xattrs', '-C', m.mnt, '-cf', `${m.dir}/links.tar`, 'target', 'lnk', 'dangling'], { encoding: 'utf8' });
    expect([tar.status, tar.stderr]).toEqual([0, '']);
  });
});

describe('durability', () => {
  it('keeps every change the mount answered when its process is killed at once (SIGKILL)', async () => {
    const killed = await mountFresh('ledgerfs-kill-');
    try {
      // kill is a shell builtin: it lands a moment after the last answer, before any timer.
      killed.sh(`cd ${killed.mnt} && mkdir d && : > d/f && ln -s f d/l && mv d/f d/g && chmod 600 d/g && kill -KILL ${killed.pid}`);
      await killed.stop();
      const store = openStore({ file: killed.db });
      const fs = FileSystem.live(store);
      expect(fs.readdir('/d').map((e) => Buffer.from(e.name).toString())).toEqual(['g', 'l']);
      expect(fs.lstat('/d/g').mode & 0o777).toBe(0o600);
      store.close();
    } finally {
      removeDir(killed.dir);
    }
  });
});
