import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimes, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { AuditLockedError } from '../errors/audit-locked-error.js';
import { LOCK_FILE } from './list-audit-files.js';

/** A held writer lock. */
export interface AuditLock {
  readonly path: string;
  /** Pid of the dead process whose lock was taken over, if any. */
  readonly tookOverFrom: number | undefined;
  /** Deletes the lock file if it is still ours. */
  release(): void;
}

interface LockContent {
  pid: number;
  hostname: string;
}

/** A lock file that does not parse is being written right now, unless it is older than this. */
const unparseableGraceMs = 2_000;
/** The holder touches its lock this often, so that a lock from another host can age out. */
const heartbeatMs = 10_000;
/** A lock from another host (whose pid cannot be checked) untouched for this long is stale. */
const foreignStaleMs = 6 * heartbeatMs;
/** Locks this process holds: a lock with our own pid that is not here is from an earlier process that had the same pid (a restarted container). */
const heldLocks = new Set<string>();

/**
 * Takes the writer lock of an audit directory: `audit.lock` created with O_EXCL holding our pid
 * and host name. A lock whose process is dead (same host, `kill(pid, 0)` says ESRCH) is taken over;
 * a live one throws `AuditLockedError` naming the pid. The holder touches the file every 10 s, so
 * a lock written on another host (a container restarted with the same volume) is taken over once
 * it is a minute old; one with our own pid that this process does not hold is from an earlier
 * process that had the same pid.
 *
 * INVARIANT: at most one writer per directory. The one known gap: two processes taking over the
 * same stale lock at the same instant can both unlink and re-create it; the O_EXCL create makes
 * exactly one of them win unless the second unlink lands between the first's create and check.
 *
 * @example
 * const lock = acquireAuditLock('/var/lib/palisade/audit'); try { … } finally { lock.release(); }
 */
export function acquireAuditLock(directory: string): AuditLock {
  const path = resolve(directory, LOCK_FILE);
  const ours: LockContent = { pid: process.pid, hostname: hostname() };
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${JSON.stringify(ours)}\n`);
      } finally {
        closeSync(fd);
      }
      heldLocks.add(path);
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(path, now, now, () => {});
      }, heartbeatMs);
      heartbeat.unref();
      return {
        path,
        tookOverFrom,
        release: () => {
          clearInterval(heartbeat);
          heldLocks.delete(path);
          releaseLock(path);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(path);
    if (holder === 'gone') continue;
    if (holder === 'unparseable') {
      if (Date.now() - mtime(path) < unparseableGraceMs)
        throw new AuditLockedError({ lockFile: path, pid: undefined, hostname: undefined });
    } else if (holder.hostname !== ours.hostname ? Date.now() - mtime(path) < foreignStaleMs : isLive(path, holder.pid)) {
      throw new AuditLockedError({ lockFile: path, pid: holder.pid, hostname: holder.hostname });
    } else {
      tookOverFrom = holder.pid;
    }
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const holder = readLock(path);
  throw new AuditLockedError({ lockFile: path, pid: typeof holder === 'object' ? holder.pid : undefined, hostname: undefined });
}

function readLock(path: string): LockContent | 'gone' | 'unparseable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const value = JSON.parse(text) as LockContent;
    return Number.isSafeInteger(value.pid) && typeof value.hostname === 'string' ? value : 'unparseable';
  } catch {
    return 'unparseable';
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** `kill(pid, 0)`: ESRCH means no such process; EPERM means it exists under another user. */
function isLive(path: string, pid: number): boolean {
  if (pid === process.pid) return heldLocks.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(path: string): void {
  const holder = readLock(path);
  if (typeof holder === 'object' && holder.pid === process.pid && holder.hostname === hostname()) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
