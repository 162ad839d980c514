import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { commandLine, processKey, procStat } from './process-info.ts';

describe('process info', () => {
  it('keys a process by pid and start time, the same on every call, and knows when it is gone', async () => {
    const child = spawn('sleep', ['30']);
    await once(child, 'spawn');
    const pid = child.pid!;
    const key = processKey(pid);
    expect(key).toBe(procStat(pid)!.key);
    expect(key).toMatch(new RegExp(`^${pid}@\\d+$`));
    expect(processKey(pid)).toBe(key);
    expect(commandLine(pid)).toBe('sleep 30');
    expect(procStat(pid)!.ppid).toBe(process.pid);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await new Promise((resolve) => setTimeout(resolve, 150)); // a checked key is trusted for 100 ms

    expect(processKey(pid)).toBeNull();
    expect(commandLine(pid)).toBeUndefined();
  });

  it('tells processes apart: each has its own key', async () => {
    const children = [spawn('sleep', ['30']), spawn('sleep', ['31'])];
    await Promise.all(children.map((c) => once(c, 'spawn')));
    const [a, b] = children.map((c) => processKey(c.pid!));
    expect(a).not.toBe(b);
    expect(children.map((c) => commandLine(c.pid!))).toEqual(['sleep 30', 'sleep 31']);
    for (const c of children) c.kill('SIGKILL');
  });
});
