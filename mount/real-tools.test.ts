// Real tools on a real kernel FUSE mount of a ledgerfs store: git, tar, cp, find, du, editors'
// atomic saves, O_APPEND writers, links, a 200 MiB file, an unlinked open file, node and
// python importing modules, and permissions for a non-root user. The store must verify after.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountFresh, removeDir, type Mounted } from '../spec/harness/mounted.ts';

const GIT = 'git -c user.name=ledgerfs -c user.email=ci@ledgerfs.invalid -c init.defaultBranch=main -c advice.detachedHead=false';
let m: Mounted;
let outside: string;

beforeAll(async () => {
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: these tests need kernel FUSE');
  m = await mountFresh();
  outside = join(m.dir, 'outside');
  m.sh(`mkdir -p ${outside}`);
});

afterAll(async () => {
  if (!m) return;
  await m.stop();
  const verify = spawnSync(process.execPath, [join(import.meta.dirname, '../bin/ledgerfs.ts'), 'verify', m.db], { encoding: 'utf8' });
  removeDir(m.dir);
  expect(verify.stdout).toMatch(/verify: ok/);
});

describe('real tools on the mount', () => {
  it('git: init, add, commit, log, status, clone', () => {
    m.sh(`cd ${m.mnt} && mkdir repo && cd repo && ${GIT} init -q && for i in $(seq 1 20); do echo "line $i" > f$i.txt; done && ${GIT} add . && ${GIT} commit -qm first`);
    m.sh(`cd ${m.mnt}/repo && echo more >> f1.txt && ${GIT} commit -qam second`);
    expect(m.sh(`cd ${m.mnt}/repo && ${GIT} log --oneline | wc -l`).trim()).toBe('2');
    expect(m.sh(`cd ${m.mnt}/repo && ${GIT} status --porcelain`)).toBe('');
    m.sh(`cd ${m.mnt} && ${GIT} clone -q repo clone && cd clone && ${GIT} fsck --no-progress`);
    expect(m.sh(`cat ${m.mnt}/clone/f1.txt`)).toBe('line 1\nmore\n');
    m.sh(`cd ${outside} && ${GIT} init -q src && cd src && echo x > a && ${GIT} add a && ${GIT} commit -qm x && cd ${m.mnt} && ${GIT} clone -q ${outside}/src from-outside`);
    expect(m.sh(`cd ${m.mnt}/from-outside && ${GIT} log --format=%s`).trim()).toBe('x');
  });

  it('tar: extract a real tree and create one, checksums equal', () => {
    const tree = join(import.meta.dirname, '../node_modules/fast-check');
    m.sh(`tar -C ${tree}/.. -cf ${outside}/tree.tar fast-check && mkdir ${m.mnt}/untar && tar -C ${m.mnt}/untar -xf ${outside}/tree.tar`);
    const sums = (dir: string) => m.sh(`cd ${dir} && find . -type f -print0 | sort -z | xargs -0 sha256sum`);
    expect(sums(`${m.mnt}/untar/fast-check`)).toBe(sums(tree));
    m.sh(`tar -C ${m.mnt}/untar -cf ${outside}/back.tar fast-check && mkdir ${outside}/back && tar -C ${outside}/back -xf ${outside}/back.tar`);
    expect(sums(`${outside}/back/fast-check`)).toBe(sums(tree));
  });

  it('cp -a, find, du', () => {
    m.sh(`mkdir -p ${outside}/tree/a/b && echo 1 > ${outside}/tree/a/one && echo 2 > ${outside}/tree/a/b/two && ln -s one ${outside}/tree/a/link && chmod 640 ${outside}/tree/a/one && touch -d 2001-02-03T04:05:06.789 ${outside}/tree/a/one`);
    m.sh(`cp -a ${outside}/tree ${m.mnt}/copied`);
    const listing = (dir: string) => m.sh(`cd ${dir} && find . -printf '%p %y %m %s %TY-%Tm-%Td %TT %l\\n' | sort`);
    expect(listing(`${m.mnt}/copied`)).toBe(listing(`${outside}/tree`));
    expect(m.sh(`find ${m.mnt}/copied -name two`).trim()).toBe(`${m.mnt}/copied/a/b/two`);
    expect(Number(m.sh(`du -sk ${m.mnt}/copied | cut -f1`))).toBeGreaterThan(0);
  });

  it('editor-style atomic save: write temp, fsync, rename over', () => {
    m.sh(`echo old > ${m.mnt}/doc.txt`);
    m.sh(`python3 -c "
import os
fd = os.open('${m.mnt}/.doc.txt.swp', os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
os.write(fd, b'new contents\\n'); os.fsync(fd); os.close(fd)
os.rename('${m.mnt}/.doc.txt.swp', '${m.mnt}/doc.txt')
"`);
    expect(m.sh(`cat ${m.mnt}/doc.txt`)).toBe('new contents\n');
    expect(m.sh(`ls -a ${m.mnt} | grep -c swp || true`).trim()).toBe('0');
  });

  it('O_APPEND from two processes loses no line', () => {
    m.sh(`for w in a b; do (for i in $(seq 1 200); do echo "$w $i" >> ${m.mnt}/append.log; done) & done; wait`);
    expect(m.sh(`wc -l < ${m.mnt}/append.log`).trim()).toBe('400');
    expect(m.sh(`grep -c '^a ' ${m.mnt}/append.log`).trim()).toBe('200');
  });

  it('hard links and symlinks', () => {
    m.sh(`cd ${m.mnt} && echo shared > h1 && ln h1 h2 && ln -s h1 s1 && ln -s /nonexistent dangling`);
    expect(m.sh(`stat -c %i ${m.mnt}/h1`)).toBe(m.sh(`stat -c %i ${m.mnt}/h2`));
    expect(m.sh(`stat -c %h ${m.mnt}/h1`).trim()).toBe('2');
    m.sh(`echo changed > ${m.mnt}/h2`);
    expect(m.sh(`cat ${m.mnt}/h1 ${m.mnt}/s1`)).toBe('changed\nchanged\n');
    expect(m.sh(`readlink ${m.mnt}/dangling`).trim()).toBe('/nonexistent');
    m.sh(`rm ${m.mnt}/h1`);
    expect(m.sh(`stat -c %h ${m.mnt}/h2`).trim()).toBe('1');
    expect(spawnSync('cat', [`${m.mnt}/s1`]).status).not.toBe(0);
  });

  it('chmod, touch -d and mv of directories', () => {
    m.sh(`mkdir -p ${m.mnt}/d1/sub && echo x > ${m.mnt}/d1/sub/f && chmod 700 ${m.mnt}/d1 && touch -d '2010-05-06 07:08:09.5' ${m.mnt}/d1/sub/f`);
    expect(m.sh(`stat -c '%a' ${m.mnt}/d1`).trim()).toBe('700');
    expect(m.sh(`stat -c '%y' ${m.mnt}/d1/sub/f`).trim()).toBe('2010-05-06 07:08:09.500000000 +0000');
    m.sh(`mv ${m.mnt}/d1 ${m.mnt}/d2 && mv ${m.mnt}/d2/sub ${m.mnt}/moved`);
    expect(m.sh(`cat ${m.mnt}/moved/f`)).toBe('x\n');
    expect(spawnSync('mv', [`${m.mnt}/d2`, `${m.mnt}/d2/inside`]).status).not.toBe(0);
  });

  it('a 200 MiB file written and read back with the same sha256', () => {
    m.sh(`head -c 209715200 /dev/urandom > ${outside}/big && cp ${outside}/big ${m.mnt}/big`);
    const [want, got] = m.sh(`sha256sum ${outside}/big ${m.mnt}/big | cut -d' ' -f1`).trim().split('\n');
    expect(got).toBe(want);
    expect(m.sh(`stat -c %s ${m.mnt}/big`).trim()).toBe('209715200');
    m.sh(`dd if=/dev/zero of=${m.mnt}/big bs=1M seek=100 count=1 conv=notrunc status=none && rm ${outside}/big`);
    expect(m.sh(`dd if=${m.mnt}/big bs=1M skip=100 count=1 status=none | tr -d '\\0' | wc -c`).trim()).toBe('0');
  });

  it('an unlinked file stays readable while open', () => {
    const out = m.sh(`python3 -c "
import os
fd = os.open('${m.mnt}/gone.txt', os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'still here')
os.unlink('${m.mnt}/gone.txt')
assert not os.path.exists('${m.mnt}/gone.txt')
os.lseek(fd, 0, 0)
print(os.read(fd, 100).decode())
os.close(fd)
"`);
    expect(out.trim()).toBe('still here');
    expect(m.sh(`ls -a ${m.mnt} | grep -c fuse_hidden || true`).trim()).toBe('0');
  });

  it('node and python3 import modules from the mount', () => {
    m.sh(`mkdir -p ${m.mnt}/code/pkg && printf 'export const answer = 42;\\n' > ${m.mnt}/code/lib.mjs && printf 'import { answer } from "./lib.mjs";\\nconsole.log(answer);\\n' > ${m.mnt}/code/main.mjs`);
    expect(m.sh(`cd ${m.mnt}/code && ${process.execPath} main.mjs`).trim()).toBe('42');
    m.sh(`printf 'VALUE = "py"\\n' > ${m.mnt}/code/pkg/__init__.py && printf 'import pkg\\nprint(pkg.VALUE)\\n' > ${m.mnt}/code/run.py`);
    expect(m.sh(`cd ${m.mnt}/code && python3 run.py`).trim()).toBe('py');
  });

  it('enforces mode bits for a non-root user and owns their files', () => {
    const asNobody = (cmd: string) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-c', cmd], { encoding: 'utf8' });
    m.sh(`mkdir -m 755 ${m.mnt}/private && mkdir -m 777 ${m.mnt}/shared && echo secret > ${m.mnt}/private/key && chmod 600 ${m.mnt}/private/key`);
    expect(asNobody(`touch ${m.mnt}/private/x`).stderr).toMatch(/Permission denied/);
    expect(asNobody(`cat ${m.mnt}/private/key`).stderr).toMatch(/Permission denied/);
    expect(asNobody(`echo mine > ${m.mnt}/shared/note && cat ${m.mnt}/shared/note`).stdout).toBe('mine\n');
    expect(m.sh(`stat -c '%u:%g' ${m.mnt}/shared/note`).trim()).toBe('65534:65534');
  });
});
