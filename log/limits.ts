// Every limit in one place; the name ends with its unit.

/** Content is split into fixed-size chunks; a chunk is stored once per distinct sha256. */
export const CHUNK_BYTES = 512 * 1024;
/**
 * The largest file: a manifest names a chunk by a uint32 index, so 2^32 chunks (2 PiB). Bigger
 * sizes and writes beyond it are EFBIG. Files are sparse, so a file this size costs nothing.
 */
export const FILE_BYTES_MAX = CHUNK_BYTES * 2 ** 32;
/** Ops further ahead of the local wall clock than this are rejected on ingest. */
export const HLC_DRIFT_MS_MAX = 60_000;
/** The HLC logical counter is 16 bits wide. */
export const HLC_COUNTER_MAX = 0xffff;
/** The HLC physical part is 48 bits of milliseconds. */
export const HLC_MS_MAX = 2 ** 48 - 1;
/** seq is contiguous per origin and packed into the low 32 bits of a local id. */
export const SEQ_MAX = 2 ** 32 - 1;
/** Local origin numbers live in the high 21 bits of a local id (ids stay exact doubles). */
export const ORIGIN_NUM_MAX = 2 ** 21 - 1;
/** Refs in one list field of an op (a setContent's bases, a removal's seen heads). */
export const REFS_COUNT_MAX = 1024;
/** POSIX limits enforced by the filesystem API. */
export const NAME_BYTES_MAX = 255;
export const PATH_BYTES_MAX = 4096;
export const SYMLINK_HOPS_MAX = 40;
export const XATTR_NAME_BYTES_MAX = 255;
export const XATTR_VALUE_BYTES_MAX = 64 * 1024;
/** Ops read or written per batch when a log is copied (fork). */
export const OP_PAGE_COUNT = 4096;
/** Export file: op bytes in one ops record (an op larger than this goes alone). */
export const EXPORT_OPS_RECORD_BYTES_MAX = 1024 * 1024;
/**
 * Export file: the largest record an import reads. SQLite's largest value is 1e9 bytes, so no op,
 * chunk or checkpoint page a store holds is larger; a length past this (or past the file's end) is
 * corruption, refused before anything is allocated for it.
 */
export const EXPORT_RECORD_BYTES_MAX = 1_000_000_000 + 1024;
/** Characters of one text field of an op's actor (an id, a command line). */
export const ACTOR_TEXT_CHARS_MAX = 4096;
/** Characters of a command line wsd records in the actor of an exec's ops (longer ones are cut). */
export const ACTOR_COMMAND_CHARS_MAX = 1024;
/** Bytes of recently read chunks kept in memory per store. */
export const CHUNK_CACHE_BYTES_MAX = 32 * 1024 * 1024;
/** Dirty chunk bytes one write buffer may hold in memory before spilling to the chunk store. */
export const WRITE_BUFFER_BYTES_MAX = 16 * 1024 * 1024;
/** RPC: bytes one readFile or read answers with (wsd); larger files are read in ranges. */
export const RPC_READ_BYTES_MAX = 64 * 1024 * 1024;
/**
 * RPC: directories one transaction of a recursive mkdir makes. A create op costs about 0.1 ms on
 * a cold daemon, so a 2,047-level path (PATH_MAX) is 8 transactions of some 25 ms each, with
 * other requests answered between them, not one of 250 ms.
 */
export const RPC_MKDIR_STEP_LEVELS = 256;
/** RPC: the same on a Durable Object, whose isolate has DO_MEMORY_BYTES_MAX: half the chunk cache. */
export const DO_READ_BYTES_MAX = CHUNK_CACHE_BYTES_MAX / 2;
/** Sync: raw op bytes per pull/push page (a page's message stays well under 1 MiB). */
export const SYNC_PAGE_BYTES_MAX = 512 * 1024;
/** Sync: ops per page. */
export const SYNC_PAGE_OPS_MAX = 4096;
/** Sync: chunk bytes in one chunks() answer (base64 in JSON keeps the message under 1 MiB). */
export const SYNC_CHUNK_BYTES_MAX = 768 * 1024;
/** Sync: hashes asked about in one have/want call. */
export const SYNC_HASHES_MAX = 4096;
/** Sync: bytes of one checkpoint page (a snapshot() answer; base64 in JSON stays under 1 MiB). */
export const CHECKPOINT_PAGE_BYTES_MAX = 512 * 1024;
/** wsd: the largest RPC message (WebSocket frame or /api body); files up to 48 MiB travel in one call (base64). */
export const WSD_MESSAGE_BYTES_MAX = 64 * 1024 * 1024;
/** Sync: the largest message either side sends: what a Durable Object accepts in one incoming WebSocket message. */
export const MESSAGE_BYTES_MAX = 1024 * 1024;

// SQL backends. better-sqlite3's SQLite takes up to 32,766 bound parameters per statement; a
// Durable Object's SQLite (workerd) is tighter, and every limit of it the code relies on is here.
export const SQLITE_PARAMS_MAX = 32_766;
/** Durable Object SQL: bound parameters in one statement. */
export const DO_SQL_PARAMS_MAX = 100;
/** Durable Object SQL: bytes of one statement's text. */
export const DO_SQL_STATEMENT_BYTES_MAX = 100_000;
/** Durable Object SQL: bytes of one row, string or BLOB. */
export const DO_SQL_ROW_BYTES_MAX = 2_000_000;
/** Durable Object: bytes of its SQLite storage (the paid plan's per-object limit). */
export const DO_STORAGE_BYTES_MAX = 10 * 1024 ** 3;
/** Durable Object: bytes of isolate memory (shared by every object in the isolate). */
export const DO_MEMORY_BYTES_MAX = 128 * 1024 * 1024;
/** Durable Object: CPU milliseconds per request (the configurable maximum is 5 minutes). */
export const DO_CPU_MS_MAX = 30_000;

// Workspace (projections/workspace.ts): @cloudflare/shell's limits, with its numbers.
/** Characters of a normalized workspace path. */
export const WORKSPACE_PATH_CHARS_MAX = 4096;
/** Characters of a symlink target given to Workspace.symlink. */
export const WORKSPACE_SYMLINK_TARGET_CHARS_MAX = 4096;
/** Missing ancestors one recursive mkdir creates. */
export const WORKSPACE_MKDIR_DEPTH_MAX = 100;
/** Bytes writeFileStream takes (it is gathered, then written as one op). */
export const WORKSPACE_STREAM_BYTES_MAX = 100 * 1024 * 1024;
/** Bytes one readFileStream piece holds (the stream reads the file a piece at a time). */
export const WORKSPACE_STREAM_PIECE_BYTES = CHUNK_BYTES;
/** Lines of either side of a diff. */
export const WORKSPACE_DIFF_LINES_MAX = 10_000;
/** Entries readDir answers when no limit is given. */
export const WORKSPACE_READDIR_DEFAULT_COUNT = 1000;
/** Entries one readDir or glob answers at most (a larger limit is refused; more glob matches are E2BIG). */
export const WORKSPACE_LIST_COUNT_MAX = 10_000;
/** Entries a glob or a tool's walk looks at before it gives up (E2BIG): a narrower pattern is the answer. */
export const WORKSPACE_WALK_COUNT_MAX = 100_000;
/** Ops a Workspace's history() and changes() answer at most (E2BIG past it). */
export const WORKSPACE_HISTORY_COUNT_MAX = 1000;

// History (projections/node-history.ts, changes.ts, blame.ts) and its RPC calls.
/** Nodes followed back through replacing renames (an editor's or `sed -i`'s save) for one file's history. */
export const LINEAGE_NODES_MAX = 100_000;
/** Ops in one page of a file's history (log --path, the history RPC call). */
export const HISTORY_PAGE_OPS_MAX = 1000;
/** Ops one diff page scans: a diff over more ops answers in pages with a cursor. */
export const DIFF_SCAN_OPS_MAX = 4096;
/** Changed files one diff page reports. */
export const DIFF_PAGE_FILES_MAX = 256;
/** Bytes of one side of a text diff or a blamed file; larger files are reported, not diffed. */
export const DIFF_TEXT_BYTES_MAX = 1024 * 1024;
/** Bytes of unified diff text in one diff page; a page stops at the file that passes it. */
export const DIFF_PAGE_BYTES_MAX = 4 * 1024 * 1024;
/** Bytes of file content one diff page reads; a page stops at the op that passes it. */
export const DIFF_PAGE_READ_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Lines added plus removed a diff made on a server's thread (wsd, the Durable Object, the
 * timeline) looks for before it gives up: diff time grows with the square of the edit (two
 * unrelated 1 MiB texts: 0.2 s to give up here, tens of seconds to finish).
 */
export const DIFF_EDIT_LINES_MAX = 2000;
/**
 * Lines added plus removed the diffs of one RPC diff page look for in all (a page ends at the op
 * after which less than DIFF_EDIT_LINES_MAX is left), and the diffs of one timeline page: about
 * 0.1 s of diffing per DIFF_EDIT_LINES_MAX here.
 */
export const DIFF_PAGE_EDIT_LINES_MAX = 4 * DIFF_EDIT_LINES_MAX;
/** Versions of one file blame reads. */
export const BLAME_VERSIONS_MAX = 10_000;
/** Bytes of content blame reads over all versions. */
export const BLAME_READ_BYTES_MAX = 256 * 1024 * 1024;
// The timeline page (projections/timeline.ts): wsd builds it on its one thread, about 0.15 s per
// 1,000 small ops here, and up to 0.25 s more per diff at the edit bound.
/** Ops one timeline page shows: the newest of its range; it says when it shows fewer than the range holds. */
export const TIMELINE_OPS_MAX = 1000;
/** Bytes of file content the diffs of one timeline page read, in all; files past it are listed without a diff. */
export const TIMELINE_DIFF_READ_BYTES_MAX = 8 * 1024 * 1024;
/** Bytes of unified diff text one timeline page embeds (each distinct diff once). */
export const TIMELINE_PATCH_BYTES_MAX = 2 * 1024 * 1024;
