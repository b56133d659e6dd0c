import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditLogOptions, openAuditLog } from './audit-log.js';
import { canonicalJson } from './canonical-json.js';
import { type AuditReceipt, sha256Hex } from './seal-receipt.js';
import { verifyAudit } from './verify-audit.js';

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'palisade-verify-'));
  directories.push(directory);
  return directory;
}

const contents = ['plain ascii', 'Grüße aus Köln', '東京の天気は？', 'emoji 🙂 and tab\t', 'quote " and backslash \\', ''];

/** Writes `count` receipts with a varied shape (nested data, non-ASCII text) and returns the head. */
async function writeLog(directory: string, count: number, options: Partial<AuditLogOptions> = {}) {
  const log = openAuditLog({ directory, compress: false, batch: { maxDelay: 0 }, ...options });
  let last = { seq: 0, hash: '' };
  for (let index = 0; index < count; index++) {
    const result = log.append({
      kind: index % 7 === 0 ? 'approval.approved' : 'decision',
      time: new Date(1_767_225_600_000 + index * 1500).toISOString(),
      eventId: `evt-${index}`,
      tenantId: ['acme', 'globex', ''][index % 3]!,
      action: ['allow', 'block', 'redact'][index % 3] as 'allow',
      tool: index % 2 ? 'mail.send' : undefined,
      detections: index % 4 ? [{ ruleId: `pii-00${index % 10}`, confidence: (index % 100) / 100, span: [index, index + 5] }] : [],
      content: contents[index % contents.length],
      data: { amount: index * 1.25, flags: [index % 2 === 0, null], nested: { depth: { ok: true } } },
    });
    last = { seq: result.seq, hash: result.hash };
  }
  await log.close();
  return last;
}

const headIndex = (head: { seq: number; hash: string }) => ({ auditHead: async () => head });

describe('verifyAudit', () => {
  it('accepts an intact log across rotated gzip files, the anchor and audit.jsonl', async () => {
    const directory = await temporaryDirectory();
    const head = await writeLog(directory, 120, { rotate: { maxBytes: 4096 }, compress: true, retention: { maxFiles: 3 } });
    const result = await verifyAudit({ directory, index: headIndex(head) });
    expect(result).toMatchObject({ ok: true, files: 4, lastSeq: 120, lastHash: head.hash, firstProblem: undefined });
    expect(result.anchor!.seq + 1).toBe(result.firstSeq);
    expect(result.receipts).toBe(120 - result.anchor!.seq);
  });

  it('accepts an empty or missing directory', async () => {
    expect(await verifyAudit({ directory: join(tmpdir(), 'palisade-no-such-directory') })).toMatchObject({
      ok: true,
      files: 0,
      lastSeq: 0,
    });
  });

  describe('names the first problem, with file, line and seq', () => {
    let directory: string;
    let original: string;
    let lines: string[];
    let head: { seq: number; hash: string };
    const current = () => join(directory, 'audit.jsonl');
    const verifyWith = async (text: string) => {
      writeFileSync(current(), text);
      return (await verifyAudit({ directory, index: headIndex(head) })).firstProblem;
    };

    beforeAll(async () => {
      directory = await temporaryDirectory();
      head = await writeLog(directory, 5);
      original = readFileSync(current(), 'utf8');
      lines = original.trimEnd().split('\n');
    });

    const join_ = (items: string[]) => `${items.join('\n')}\n`;
    const reseal = (receipt: AuditReceipt) => {
      const hash = sha256Hex(canonicalJson({ ...receipt, hash: undefined }));
      return canonicalJson({ ...receipt, hash });
    };

    it('an edited value: hash mismatch', async () => {
      const edited = lines.map((line, index) => (index === 2 ? line.replace('evt-2', 'evt-9') : line));
      expect(await verifyWith(join_(edited))).toEqual({
        file: 'audit.jsonl',
        line: 3,
        seq: 3,
        problem: expect.stringMatching(/^hash mismatch: /),
      });
    });

    it('a receipt re-hashed after an edit: broken link', async () => {
      const receipt = JSON.parse(lines[2]!) as AuditReceipt;
      const edited = [...lines.slice(0, 2), reseal({ ...receipt, action: 'allow' }), ...lines.slice(3)];
      expect(await verifyWith(join_(edited))).toEqual({
        file: 'audit.jsonl',
        line: 4,
        seq: 4,
        problem: expect.stringMatching(/^broken link: prev is [0-9a-f]{64} but receipt 3 has hash [0-9a-f]{64}$/),
      });
    });

    it('a deleted line: seq gap', async () => {
      expect(await verifyWith(join_([...lines.slice(0, 2), ...lines.slice(3)]))).toEqual({
        file: 'audit.jsonl',
        line: 3,
        seq: 4,
        problem: 'seq gap: expected seq 3, found 4 (receipts were deleted)',
      });
    });

    it('a duplicated line: seq out of order', async () => {
      expect((await verifyWith(join_([...lines.slice(0, 3), lines[2]!, ...lines.slice(3)])))?.problem).toBe(
        'seq out of order: expected seq 4, found 3 (receipts were reordered or duplicated)',
      );
    });

    it('reformatted JSON: not canonical', async () => {
      const edited = lines.map((line, index) => (index === 0 ? JSON.stringify(JSON.parse(line), null, 0).replace(':', ': ') : line));
      expect((await verifyWith(join_(edited)))?.problem).toMatch(/^not canonical JSON/);
    });

    it('a broken line: unparseable', async () => {
      const edited = lines.map((line, index) => (index === 1 ? line.slice(0, 40) : line));
      expect(await verifyWith(join_(edited))).toMatchObject({ line: 2, problem: 'unparseable: the line is not valid JSON' });
    });

    it('a partial last line: truncated line', async () => {
      expect(await verifyWith(original + lines[0]!.slice(0, 30))).toEqual({
        file: 'audit.jsonl',
        line: 6,
        seq: 6,
        problem: 'truncated line: 30 bytes without a newline at the end of the file (a torn write; openAuditLog trims it)',
      });
    });

    it('a log cut at a line boundary: truncated, by the index', async () => {
      expect(await verifyWith(join_(lines.slice(0, 3)))).toEqual({
        file: 'audit.jsonl',
        line: 4,
        seq: 5,
        problem: 'truncated: the index knows seq 5 but the log ends at seq 3',
      });
      writeFileSync(current(), original);
      expect((await verifyAudit({ directory })).ok).toBe(true);
    });

    it('a log whose first receipts are gone and no anchor says why', async () => {
      expect((await verifyWith(join_(lines.slice(2))))?.problem).toBe(
        'seq gap: the log starts at seq 3 but there is no anchor (receipts or files were deleted)',
      );
    });
  });

  it('reports a corrupt gzip file and an edited anchor', async () => {
    const directory = await temporaryDirectory();
    const head = await writeLog(directory, 60, { rotate: { maxBytes: 2048 }, compress: true, retention: { maxFiles: 2 } });
    const anchorPath = join(directory, 'audit-anchor.json');
    const anchor = readFileSync(anchorPath, 'utf8');
    writeFileSync(
      anchorPath,
      anchor.replace(/"time":"(\d)/, (_, digit) => `"time":"${(Number(digit) + 1) % 10}`),
    );
    expect((await verifyAudit({ directory })).firstProblem).toEqual({
      file: 'audit-anchor.json',
      line: 1,
      seq: undefined,
      problem: 'the anchor file does not match its digest (edited)',
    });
    writeFileSync(anchorPath, anchor);

    const gz = readdirSync(directory).find((name) => name.endsWith('.gz'))!;
    const bytes = readFileSync(join(directory, gz));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(join(directory, gz), bytes);
    const result = await verifyAudit({ directory, index: headIndex(head) });
    expect(result.firstProblem).toMatchObject({ file: gz, line: 1, problem: expect.stringMatching(/^unreadable: /) });
  });
});

/** mulberry32: a seeded PRNG, so a failing trial can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (below: number) => Math.floor(next() * below) };
}

interface LogFile {
  name: string;
  compressed: boolean;
  /** Decompressed content. */
  text: Buffer;
  raw: Buffer;
}

/** Files in chain order (the anchor, if any, last), with their decompressed content. */
function snapshot(directory: string): LogFile[] {
  const names = readdirSync(directory);
  const chain = names.filter((name) => /^audit-\d+\.jsonl(\.gz)?$/.test(name)).sort();
  if (names.includes('audit.jsonl')) chain.push('audit.jsonl');
  if (names.includes('audit-anchor.json')) chain.push('audit-anchor.json');
  return chain.map((name) => {
    const raw = readFileSync(join(directory, name));
    const compressed = name.endsWith('.gz');
    return { name, compressed, raw, text: compressed ? gunzipSync(raw) : raw };
  });
}

type Change = Map<string, Buffer | null>;

function lineSpans(files: LogFile[]): { file: LogFile; start: number; end: number }[] {
  const spans: { file: LogFile; start: number; end: number }[] = [];
  for (const file of files) {
    if (file.name === 'audit-anchor.json') continue;
    let start = 0;
    for (let at = file.text.indexOf(10); at >= 0; at = file.text.indexOf(10, start)) {
      spans.push({ file, start, end: at + 1 });
      start = at + 1;
    }
  }
  return spans;
}

/** One random tampering: a single-byte edit, a deleted line, two swapped lines, or a truncation. */
function tamper(files: LogFile[], rng: ReturnType<typeof random>): { description: string; change: Change } {
  const change: Change = new Map();
  const kind = rng.int(4);
  if (kind === 0) {
    const total = files.reduce((sum, file) => sum + file.text.length, 0);
    let offset = rng.int(total);
    let file = files[0]!;
    for (file of files) {
      if (offset < file.text.length) break;
      offset -= file.text.length;
    }
    const text = Buffer.from(file.text);
    const before = text[offset]!;
    text[offset] = (before + 1 + rng.int(255)) % 256;
    change.set(file.name, text);
    return { description: `byte ${offset} of ${file.name}: ${before} -> ${text[offset]}`, change };
  }
  const spans = lineSpans(files);
  if (kind === 1) {
    const span = spans[rng.int(spans.length)]!;
    change.set(span.file.name, Buffer.concat([span.file.text.subarray(0, span.start), span.file.text.subarray(span.end)]));
    return { description: `delete ${span.file.name} bytes ${span.start}-${span.end}`, change };
  }
  if (kind === 2) {
    const first = rng.int(spans.length);
    const second = (first + 1 + rng.int(spans.length - 1)) % spans.length;
    const [left, right] = [spans[Math.min(first, second)]!, spans[Math.max(first, second)]!];
    const leftLine = left.file.text.subarray(left.start, left.end);
    const rightLine = right.file.text.subarray(right.start, right.end);
    if (left.file === right.file) {
      const text = left.file.text;
      change.set(
        left.file.name,
        Buffer.concat([text.subarray(0, left.start), rightLine, text.subarray(left.end, right.start), leftLine, text.subarray(right.end)]),
      );
    } else {
      change.set(left.file.name, Buffer.concat([left.file.text.subarray(0, left.start), rightLine, left.file.text.subarray(left.end)]));
      change.set(right.file.name, Buffer.concat([right.file.text.subarray(0, right.start), leftLine, right.file.text.subarray(right.end)]));
    }
    return { description: `swap lines of ${left.file.name}@${left.start} and ${right.file.name}@${right.start}`, change };
  }
  const chain = files.filter((file) => file.name !== 'audit-anchor.json');
  const total = chain.reduce((sum, file) => sum + file.text.length, 0);
  let cut = rng.int(total);
  const description = `truncate the log at byte ${cut}`;
  let reached = false;
  for (const file of chain) {
    if (reached) change.set(file.name, null);
    else if (cut < file.text.length) {
      change.set(file.name, file.text.subarray(0, cut));
      reached = true;
    } else cut -= file.text.length;
  }
  return { description, change };
}

function apply(directory: string, files: LogFile[], change: Change): void {
  for (const [name, text] of change) {
    const file = files.find((candidate) => candidate.name === name)!;
    if (text === null) rmSync(join(directory, name));
    else writeFileSync(join(directory, name), file.compressed ? gzipSync(text, { level: 1 }) : text);
  }
}

function restore(directory: string, files: LogFile[], change: Change): void {
  for (const name of change.keys()) writeFileSync(join(directory, name), files.find((file) => file.name === name)!.raw);
}

const trials = Number(process.env.PALISADE_AUDIT_TRIALS ?? 500);
const seed = Number(process.env.PALISADE_AUDIT_SEED ?? 20_260_101);

describe('verifyAudit against random tampering', () => {
  it(`catches ${trials} random single-byte edits, line deletions, swaps and truncations (seed ${seed})`, { timeout: 600_000 }, async () => {
    // Two logs: rotated gzip files with an anchor from retention, and plain rotated files without.
    const layouts = [
      { rotate: { maxBytes: 16 * 1024 }, compress: true, retention: { maxFiles: 4 } },
      { rotate: { maxBytes: 24 * 1024 }, compress: false },
    ];
    const logs = [];
    for (const layout of layouts) {
      const directory = await temporaryDirectory();
      const head = await writeLog(directory, 400, layout);
      const files = snapshot(directory);
      expect((await verifyAudit({ directory, index: headIndex(head) })).ok).toBe(true);
      expect(files.length).toBeGreaterThanOrEqual(5);
      logs.push({ directory, head, files });
    }
    const rng = random(seed);
    const missed: string[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const { directory, head, files } = logs[trial % logs.length]!;
      const { description, change } = tamper(files, rng);
      apply(directory, files, change);
      const result = await verifyAudit({ directory, index: headIndex(head) });
      if (result.ok) missed.push(`trial ${trial}: ${description}`);
      restore(directory, files, change);
    }
    expect(missed).toEqual([]);
    for (const { directory, head } of logs) expect((await verifyAudit({ directory, index: headIndex(head) })).ok).toBe(true);
  });
});
