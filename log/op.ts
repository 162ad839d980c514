// The op format. Every filesystem mutation is exactly one op; content travels by reference
// (a manifest of chunk hashes), never as bytes inside an op. See spec/ops.md.
import type { Ref } from './ids.ts';
import type { Ts } from './hlc.ts';

/** Who made an op, so audit can answer "which command wrote this". */
export interface Actor {
  kind: 'fuse' | 'exec' | 'rpc' | 'cli' | 'api' | 'tool';
  pid?: number;
  uid?: number;
  gid?: number;
  /** exec id (exec), caller (rpc) or tool call id (tool). */
  id?: string;
  /** command line of an exec. */
  command?: string;
  /** the tool's name (tool). */
  name?: string;
}

export type NodeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev';

/** [seconds, nanoseconds] since the epoch: exact, unlike a double of nanoseconds. */
export type Timespec = [sec: number, nsec: number];

export interface CreateBody {
  kind: 'create';
  parent: Ref;
  name: Uint8Array;
  type: NodeType;
  /** permission bits (0o7777); the type is in `type`. */
  mode: number;
  uid: number;
  gid: number;
  /** symlink target bytes, else empty. */
  target: Uint8Array;
  /** device number for chardev/blockdev, else 0. */
  rdev: number;
}

export interface LinkBody {
  kind: 'link';
  parent: Ref;
  name: Uint8Array;
  node: Ref;
}

export interface MoveBody {
  kind: 'move';
  entry: Ref;
  /** the entry's node, so the op's ctime touch does not depend on tree state. */
  node: Ref;
  /** the directory the issuer saw the entry in; its mtime is touched. */
  from: Ref;
  parent: Ref;
  name: Uint8Array;
  /** entry replaced at the destination (moved to trash), or swapped with when `exchange`. */
  other: Ref | null;
  otherNode: Ref | null;
  exchange: boolean;
  /** the content heads of `otherNode` the issuer saw (empty without a replaced entry); see UnlinkBody. */
  seen: Ref[];
}

export interface UnlinkBody {
  kind: 'unlink' | 'rmdir';
  entry: Ref;
  node: Ref;
  parent: Ref;
  /**
   * The node's content heads (setContent ops) the issuer saw. A head the removal did not see, made
   * by a writer that had not seen the removal, keeps the node's last name (modify beats delete).
   */
  seen: Ref[];
}

export interface SetContentBody {
  kind: 'setContent';
  node: Ref;
  size: number;
  /** n records of 36 bytes: sha256 (32) then chunk size (uint32 big-endian). */
  manifest: Uint8Array;
  /** the setContent ops this content was based on (empty for a first write). */
  base: Ref[];
  /**
   * Removals of the node's last name the writer had applied: content written to an unlinked,
   * still-open file names them, so that it does not bring the file back.
   */
  deletes: Ref[];
}

export interface SetAttrBody {
  kind: 'setAttr';
  node: Ref;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  atime: Timespec | null;
  mtime: Timespec | null;
}

export interface SetXattrBody {
  kind: 'setXattr';
  node: Ref;
  name: Uint8Array;
  /** null removes the attribute. */
  value: Uint8Array | null;
}

export type OpBody =
  | CreateBody
  | LinkBody
  | MoveBody
  | UnlinkBody
  | SetContentBody
  | SetAttrBody
  | SetXattrBody;

export type OpKind = OpBody['kind'];

export interface OpHeader {
  origin: string;
  seq: number;
  ts: Ts;
  actor: Actor;
}

export type Op = OpHeader & OpBody;

export const TREE_KINDS: ReadonlySet<OpKind> = new Set(['create', 'link', 'move', 'unlink', 'rmdir']);

export function isTreeOp(op: OpBody): op is CreateBody | LinkBody | MoveBody | UnlinkBody {
  return TREE_KINDS.has(op.kind);
}
