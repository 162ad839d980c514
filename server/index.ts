// server/: the wsd daemon (startWsd, configured by readConfig from the environment), the RPC
// surfaces it serves (sessions of exactly the documented methods), the HTTP server, and the
// Durable Object replica with its Worker (also the package's ./worker entry, for workerd).
export { readConfig, ConfigError, type WsdConfig } from './config.ts';
export { startWsd, type WsdInfo } from './wsd.ts';
export { startHttpServer, type HttpServer, type HttpServerOptions } from './http-server.ts';
export { rpcSurface, rpcSession, type Session } from './rpc-surface.ts';
export { SyncService, syncSession, SYNC_METHODS } from './sync-service.ts';
export { FilesystemService, FILESYSTEM_METHODS } from './filesystem-service.ts';
export { WorkspaceService, workspaceSession, WORKSPACE_METHODS, type Workspace, type WorkspaceApi } from './workspace-service.ts';
export { WorkspaceObject, DurableWorkspaceService, durableSession, DURABLE_METHODS } from './durable-object.ts';
export { startLocalWorker, buildWorker, type LocalWorker, type LocalWorkerOptions } from './local-worker.ts';
