// POSIX errors: every failure a caller can cause carries `.code` ('ENOENT', ...) and `.errno`.
import { constants } from 'node:os';

export type FsErrorCode =
  | 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EINVAL' | 'ELOOP' | 'ENAMETOOLONG'
  | 'EXDEV' | 'EPERM' | 'EBADF' | 'EBUSY' | 'EROFS' | 'ENODATA' | 'E2BIG' | 'ERANGE' | 'EFBIG' | 'ENOTSUP';

export class FsError extends Error {
  override name = 'FsError';
  readonly code: FsErrorCode;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;

  constructor(code: FsErrorCode, syscall: string, path?: string, detail?: string) {
    // An FsError is an answer, not a bug: no stack trace (capturing one costs more than the
    // lookup that failed, and ENOENT is the commonest answer a filesystem gives).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${syscall}${path === undefined ? '' : ` '${path}'`}${detail ? ` (${detail})` : ''}`);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.errno = (constants.errno as Record<string, number>)[code] ?? 0;
    this.syscall = syscall;
    this.path = path;
  }
}
