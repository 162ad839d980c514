// Attribution of changes made through a mount, for audit ("which command wrote this").
import type { Actor } from '../log/index.ts';

/**
 * The actor for a change made by process `pid` (undefined when the backend cannot tell, as
 * with the shim), or null to keep the backend's own.
 */
export type Attribute = (pid: number | undefined) => Actor | null;
