// The workspace over MCP (@modelcontextprotocol/sdk): the agent tools (projections/
// workspace-tools.ts) as MCP tools, and the files as resources `ledgerfs:///<path>`. One server
// per connection: `ledgerfs mcp <db>` serves stdio, wsd serves streamable HTTP at /mcp.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { WORKSPACE_LIST_COUNT_MAX } from '../log/index.ts';
import { callTool, WORKSPACE_TOOLS, type Workspace } from '../projections/index.ts';

const URI_PREFIX = 'ledgerfs://';

export function mcpServer(workspace: Workspace): Server {
  const server = new Server({ name: 'ledgerfs', version: '0.1.0' }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: WORKSPACE_TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    // MCP gives a call no id of its own that outlives the session: each call gets one, returned in _meta
    const callId = `mcp-${randomUUID()}`;
    try {
      const text = await callTool(workspace, request.params.name, request.params.arguments ?? {}, callId);
      return { content: [{ type: 'text', text }], _meta: { toolCallId: callId } };
    } catch (error) {
      const code = (error as { code?: string }).code;
      return { content: [{ type: 'text', text: (error as Error).message }], isError: true, _meta: { toolCallId: callId, ...(code ? { code } : {}) } };
    }
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    // the first WORKSPACE_LIST_COUNT_MAX files by path; glob refuses a larger answer
    const files = (await workspace.glob('/**').catch(() => [])).filter((e) => e.type === 'file');
    return { resources: files.slice(0, WORKSPACE_LIST_COUNT_MAX).map((e) => ({ uri: `${URI_PREFIX}${e.path}`, name: e.path, mimeType: e.mimeType, size: e.size })) };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    if (!uri.startsWith(`${URI_PREFIX}/`)) throw new Error(`resources are ${URI_PREFIX}/<path>, got ${uri}`);
    const path = decodeURI(uri.slice(URI_PREFIX.length));
    const [bytes, stat] = [await workspace.readFileBytes(path), await workspace.stat(path)];
    if (bytes === null || !stat) throw new Error(`ENOENT: ${path}`);
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      return { contents: [{ uri, mimeType: stat.mimeType, text: text.decode(bytes) }] };
    } catch {
      return { contents: [{ uri, mimeType: stat.mimeType, blob: Buffer.from(bytes).toString('base64') }] };
    }
  });
  return server;
}

/**
 * Streamable HTTP, stateless: each request gets its own server and transport (the SDK reads at
 * most 4 MB of body). JSON answers, no SSE stream to keep open.
 */
export function mcpHttpHandler(workspace: Workspace): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const server = mcpServer(workspace);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    server.connect(transport).then(() => transport.handleRequest(req, res)).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`);
    });
  };
}
