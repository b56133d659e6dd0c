import { close, fdatasync, fsync, open, rename, write } from 'node:fs';

/**
 * The asynchronous file operations the audit writer uses after `openAuditLog` returns: writing,
 * syncing and rotating. Tests pass a wrapper that fails on demand (a full disk, EIO) to exercise
 * the failure modes; everything else uses `nodeAuditFileSystem`.
 *
 * INVARIANT: every method is asynchronous (libuv thread pool): an fsync never runs on the event loop.
 */
export interface AuditFileSystem {
  open(path: string, flags: number, mode: number): Promise<number>;
  /** Positional write (pwrite); resolves with the number of bytes written. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Makes a directory's entries (created, renamed, deleted files) durable. */
  syncDirectory(path: string): Promise<void>;
}

const done =
  (resolve: () => void, reject: (error: Error) => void) =>
  (error: Error | null): void =>
    error ? reject(error) : resolve();

/**
 * The real file system, through node:fs callbacks.
 *
 * @example openAuditLog({ directory, fileSystem: nodeAuditFileSystem })
 */
export const nodeAuditFileSystem: AuditFileSystem = {
  open: (path, flags, mode) =>
    new Promise((resolve, reject) => open(path, flags, mode, (error, fd) => (error ? reject(error) : resolve(fd)))),
  write: (fd, buffer, offset, length, position) =>
    new Promise((resolve, reject) =>
      write(fd, buffer, offset, length, position, (error, written) => (error ? reject(error) : resolve(written))),
    ),
  fdatasync: (fd) => new Promise((resolve, reject) => fdatasync(fd, done(resolve, reject))),
  close: (fd) => new Promise((resolve, reject) => close(fd, done(resolve, reject))),
  rename: (from, to) => new Promise((resolve, reject) => rename(from, to, done(resolve, reject))),
  syncDirectory: (path) =>
    new Promise((resolve, reject) =>
      open(path, 'r', (openError, fd) => {
        if (openError) return reject(openError);
        fsync(fd, (syncError) => close(fd, (closeError) => (syncError || closeError ? reject(syncError ?? closeError) : resolve())));
      }),
    ),
};
