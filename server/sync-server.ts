// Serves a replica's sync surface over HTTP: capnweb HTTP batch on POST /api and capnweb over a
// WebSocket on /ws, plus GET /health. The wsd daemon builds on this.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { nodeHttpBatchRpcResponse, newWebSocketRpcSession } from 'capnweb';
import { WebSocketServer } from 'ws';
import { MESSAGE_BYTES_MAX } from '../log/index.ts';
import type { Store } from '../projections/index.ts';
import { SyncService } from './sync-service.ts';

export interface SyncServer {
  port: number;
  close(): Promise<void>;
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

export async function startSyncServer(store: Store, options: { port?: number; host?: string } = {}): Promise<SyncServer> {
  // Frames a little over the message budget are refused by ws itself (base64 adds a third).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * MESSAGE_BYTES_MAX });
  const services = new Set<SyncService>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/health') return req.method === 'GET' ? text(res, 200, 'ok\n') : text(res, 405, 'method not allowed\n', { allow: 'GET' });
    if (path === '/api') {
      if (req.method !== 'POST') return text(res, 405, 'method not allowed\n', { allow: 'POST' });
      const service = new SyncService(store);
      nodeHttpBatchRpcResponse(req, res, service).finally(() => service.close()).catch((error: Error) => {
        if (!res.headersSent) text(res, 400, `${error.message}\n`);
      });
      return;
    }
    text(res, 404, 'not found\n');
  });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nnot found\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const service = new SyncService(store);
      services.add(service);
      ws.on('close', () => {
        services.delete(service);
        service.close();
      });
      newWebSocketRpcSession(ws as unknown as WebSocket, service);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      for (const service of services) service.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
