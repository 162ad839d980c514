// Mount mode selection: FUSE_MOUNT=auto|fuse|shim|none. auto uses kernel FUSE when it works
// here and the shim otherwise; fuse fails with the reason when it does not work.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { FileSystem } from '../projections/index.ts';
import type { Attribute } from './attribute.ts';
import { FuseMount } from './fuse-mount.ts';
import { ShimMount } from './shim.ts';

export const MOUNT_MODES = ['auto', 'fuse', 'shim', 'none'] as const;
export type MountMode = (typeof MOUNT_MODES)[number];
export type MountBackend = 'fuse' | 'shim' | 'none';

export function parseMountMode(value: string | undefined): MountMode {
  const mode = value ?? 'auto';
  if (!(MOUNT_MODES as readonly string[]).includes(mode)) throw new Error(`FUSE_MOUNT must be one of ${MOUNT_MODES.join(', ')}; got ${JSON.stringify(mode)}`);
  return mode as MountMode;
}

/** Why kernel FUSE cannot be used here, or null when it can. */
export function fuseUnavailable(device = '/dev/fuse'): string | null {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
  } catch (error) {
    return `${device} is not usable (${(error as NodeJS.ErrnoException).code})`;
  }
  if (spawnSync('fusermount', ['-V']).status !== 0) return 'fusermount is not installed (apt-get install fuse)';
  try {
    createRequire(import.meta.url)('fuse-native');
  } catch (error) {
    return `the fuse-native addon does not load: ${(error as Error).message.split('\n')[0]} (apt-get install libfuse2)`;
  }
  return null;
}

export interface MountOptions {
  device?: string;
  debug?: boolean;
  attribute?: Attribute;
}

export interface MountedWorkspace {
  backend: MountBackend;
  /** Brings what processes wrote into the store now (the shim's pass; FUSE commits as it goes). */
  settle(): void;
  close(): Promise<void>;
}

export async function mountWorkspace(fs: FileSystem, mountPoint: string, mode: MountMode, options: MountOptions = {}): Promise<MountedWorkspace> {
  if (mode === 'none') return { backend: 'none', settle: () => {}, close: async () => {} };
  const unavailable = mode === 'shim' ? 'shim requested' : fuseUnavailable(options.device);
  if (unavailable === null) {
    const mount = await FuseMount.mount(fs, mountPoint, options);
    return { backend: 'fuse', settle: () => {}, close: () => mount.close() };
  }
  if (mode === 'fuse') throw new Error(`FUSE_MOUNT=fuse but kernel FUSE is not available: ${unavailable}`);
  const shim = ShimMount.start(fs, mountPoint, options);
  return { backend: 'shim', settle: () => void shim.sync(), close: async () => shim.close() };
}
