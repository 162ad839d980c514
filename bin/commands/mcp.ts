import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Workspace } from '../../index.ts';
import { mcpServer } from '../../server/mcp.ts';
import { UsageError } from './common.ts';

/** `ledgerfs mcp <db>`: an MCP server on stdin/stdout until stdin closes. */
export async function runMcp([db]: string[]): Promise<number> {
  if (!db) throw new UsageError('mcp wants a store file: ledgerfs mcp <db>');
  const workspace = new Workspace({ sql: db });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.on('end', resolve);
  });
  await mcpServer(workspace).connect(transport);
  await closed;
  workspace.close();
  return 0;
}
