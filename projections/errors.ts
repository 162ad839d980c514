// POSIX errors: every failure a caller can cause carries `.code` ('ENOENT', ...) and `.errno`.

export type FsErrorCode =
  | 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EINVAL' | 'ELOOP' | 'ENAMETOOLONG'
  | 'EXDEV' | 'EPERM' | 'EBADF' | 'EBUSY' | 'EROFS' | 'ENODATA' | 'E2BIG' | 'ERANGE' | 'EFBIG' | 'ENOTSUP';

/** Linux errno values (what the FUSE driver returns, negated). */
const ERRNO: Record<FsErrorCode, number> = {
  EPERM: 1, ENOENT: 2, E2BIG: 7, EBADF: 9, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  EFBIG: 27, EROFS: 30, ERANGE: 34, ENAMETOOLONG: 36, ENOTEMPTY: 39, ELOOP: 40, ENODATA: 61, ENOTSUP: 95,
};

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
    this.errno = ERRNO[code];
    this.syscall = syscall;
    this.path = path;
  }
}
