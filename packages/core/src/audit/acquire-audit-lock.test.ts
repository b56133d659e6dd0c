import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLockedError } from '../errors/audit-locked-error.js';
import { acquireAuditLock } from './acquire-audit-lock.js';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'palisade-lock-'));
  directories.push(directory);
  return directory;
}

const writeLock = (directory: string, pid: number, host = hostname()) =>
  writeFileSync(join(directory, 'audit.lock'), `${JSON.stringify({ pid, hostname: host })}\n`);

function lockError(directory: string): AuditLockedError {
  try {
    acquireAuditLock(directory).release();
  } catch (error) {
    if (AuditLockedError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the lock was taken');
}

describe('acquireAuditLock', () => {
  it('creates the lock with our pid and deletes it on release', async () => {
    const directory = await temporaryDirectory();
    const lock = acquireAuditLock(directory);
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toEqual({ pid: process.pid, hostname: hostname() });
    expect(lock.tookOverFrom).toBeUndefined();
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('refuses while this process holds it, naming the pid and how to fix it', async () => {
    const directory = await temporaryDirectory();
    const lock = acquireAuditLock(directory);
    const error = lockError(directory);
    expect(error).toMatchObject({ code: 'AUDIT_LOCKED', pid: process.pid, lockFile: lock.path });
    expect(error.message).toMatch(
      /Hint: Only one process may write an audit directory: stop that process, or give this one its own `audit.directory`/,
    );
    lock.release();
  });

  it('takes over the lock of a dead process', async () => {
    const directory = await temporaryDirectory();
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeLock(directory, dead);
    const lock = acquireAuditLock(directory);
    expect(lock.tookOverFrom).toBe(dead);
    lock.release();
  });

  it('takes over a lock with its own pid that it does not hold (a container restarted with the same pid)', async () => {
    const directory = await temporaryDirectory();
    writeLock(directory, process.pid);
    const lock = acquireAuditLock(directory);
    expect(lock.tookOverFrom).toBe(process.pid);
    lock.release();
  });

  it('treats a lock from another host as held until it has not been touched for a minute', async () => {
    const directory = await temporaryDirectory();
    writeLock(directory, 4242, 'other-host');
    expect(lockError(directory)).toMatchObject({ pid: 4242, hostname: 'other-host' });
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(directory, 'audit.lock'), old, old);
    const lock = acquireAuditLock(directory);
    expect(lock.tookOverFrom).toBe(4242);
    lock.release();
  });

  it('waits out a lock file that is still being written, then treats it as stale', async () => {
    const directory = await temporaryDirectory();
    writeFileSync(join(directory, 'audit.lock'), '');
    expect(lockError(directory).pid).toBeUndefined();
    const old = new Date(Date.now() - 10_000);
    utimesSync(join(directory, 'audit.lock'), old, old);
    acquireAuditLock(directory).release();
  });
});
