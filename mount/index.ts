// mount/: the FUSE driver and mounting.
export { FuseMount, MOUNT_OPTIONS, forceUnmount, isMounted } from './fuse-mount.ts';
export { fuseOperations } from './fuse-driver.ts';
export { createVfs, LedgerProvider, LedgerStats, type VirtualFileSystem } from './vfs-provider.ts';
export { ShimMount } from './shim.ts';
export { fuseUnavailable, mountWorkspace, parseMountMode, MOUNT_MODES, type MountBackend, type MountMode, type MountedWorkspace } from './mode.ts';
