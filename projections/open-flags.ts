// open(2) flags as FileSystem.open takes them: Linux's values (x86_64 and the generic ABI), the
// ones the kernel hands a FUSE filesystem. Defined here, not read from node:fs, so the API means
// the same on workerd.
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
