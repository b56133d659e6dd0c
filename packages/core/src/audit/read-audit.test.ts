import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLog } from './audit-log.js';
import { readAudit } from './read-audit.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'palisade-read-audit-'));
  const log = openAuditLog({ directory, rotate: { maxBytes: 2048 }, compress: true, batch: { maxDelay: 0 } });
  for (let index = 1; index <= 50; index++) {
    log.append({
      kind: 'decision',
      time: new Date(index * 1000).toISOString(),
      eventId: `evt-${index}`,
      tenantId: index % 2 ? 'acme' : 'globex',
    });
  }
  await log.close();
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<{ seq: number }>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const receipt of iterable) seqs.push(receipt.seq);
  return seqs;
}

describe('readAudit', () => {
  it('reads every receipt in seq order across gzipped rotated files and audit.jsonl', async () => {
    expect(await collect(readAudit({ directory }))).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
  });

  it('starts at fromSeq, stops at toSeq and applies the filter', async () => {
    expect(await collect(readAudit({ directory, fromSeq: 17, toSeq: 30, filter: (receipt) => receipt.tenantId === 'acme' }))).toEqual([
      17, 19, 21, 23, 25, 27, 29,
    ]);
  });

  it('skips a partial last line (a write in progress)', async () => {
    appendFileSync(join(directory, 'audit.jsonl'), '{"kind":"deci');
    expect((await collect(readAudit({ directory, fromSeq: 48 }))).at(-1)).toBe(50);
  });
});
