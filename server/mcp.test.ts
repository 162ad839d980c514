// MCP with the SDK's own client: stdio against `ledgerfs mcp <db>` run as a process, and
// streamable HTTP against the /mcp route behind a token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, Workspace } from '../index.ts';
import { startHttpServer } from './http-server.ts';
import { mcpHttpHandler } from './mcp.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-mcp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

/** The same conversation over any transport: tools listed, a write and an edit, resources read. */
async function converse(client: Client): Promise<string> {
  expect((await client.listTools()).tools.map((t) => t.name)).toContain('edit');
  const wrote = await client.callTool({ name: 'write', arguments: { path: '/notes/a.md', content: 'hello world\n' } });
  expect(text(wrote)).toBe('wrote /notes/a.md');
  const edited = await client.callTool({ name: 'edit', arguments: { path: '/notes/a.md', old_string: 'world', new_string: 'mcp' } });
  const failed = await client.callTool({ name: 'edit', arguments: { path: '/notes/a.md', old_string: 'absent', new_string: 'x' } });
  expect(failed.isError).toBe(true);
  expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['ledgerfs:///notes/a.md']);
  const read = await client.readResource({ uri: 'ledgerfs:///notes/a.md' });
  expect((read.contents[0] as { text: string }).text).toBe('hello mcp\n');
  await client.close();
  return (edited._meta as { toolCallId: string }).toolCallId;
}

describe('MCP', () => {
  it('serves the tools and files over stdio (ledgerfs mcp <db>)', async () => {
    const db = join(dir, 'stdio.db');
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(import.meta.dirname, '..', 'bin', 'ledgerfs.ts'), 'mcp', db], stderr: 'inherit' }));
    const callId = await converse(client);
    const store = openStore({ file: db });
    try {
      const ops = [...store.log.scan()].filter(({ op }) => op.actor.id === callId).map(({ op }) => [op.kind, op.actor.kind, op.actor.name]);
      expect(ops).toEqual([['setContent', 'tool', 'edit']]);
    } finally {
      store.close();
    }
  });

  it('serves them over streamable HTTP behind the token', async () => {
    const workspace = new Workspace();
    const server = await startHttpServer({ token: 's3cret', session: () => { throw new Error('no rpc here'); }, handlers: { '/mcp': mcpHttpHandler(workspace) } });
    try {
      const url = new URL(`http://127.0.0.1:${server.port}/mcp`);
      await expect(new Client({ name: 'test', version: '1' }).connect(new StreamableHTTPClientTransport(url))).rejects.toThrow(/unauthorized/);
      const client = new Client({ name: 'test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: 'Bearer s3cret' } } }));
      const callId = await converse(client);
      expect((await workspace.history('/notes/a.md')).map((c) => c.actor)).toContainEqual({ kind: 'tool', id: callId, name: 'edit' });
    } finally {
      workspace.close();
      await server.close();
    }
  });
});
