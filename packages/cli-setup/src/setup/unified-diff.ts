export interface UnifiedDiffOptions {
  /** Header name of the old file (`/dev/null` for a new one). */
  fromFile: string;
  toFile: string;
  /** Lines of context around each change (default 3). */
  context?: number;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

/**
 * A unified diff (`diff -u` / `git diff` format) of two texts; empty when they are equal.
 * `before` undefined means the file does not exist yet. A last line without a final newline is
 * marked `\ No newline at end of file`, as git does.
 *
 * @example
 * unifiedDiff(undefined, 'a\n', { fromFile: '/dev/null', toFile: 'b/x.txt' })
 * // '--- /dev/null\n+++ b/x.txt\n@@ -0,0 +1 @@\n+a\n'
 */
export function unifiedDiff(before: string | undefined, after: string, options: UnifiedDiffOptions): string {
  if (before === after) return '';
  const context = options.context ?? 3;
  const ops = diffLines(splitLines(before ?? ''), splitLines(after));
  const hunks = groupHunks(ops, context);
  let out = `--- ${options.fromFile}\n+++ ${options.toFile}\n`;
  for (const hunk of hunks) {
    out += `@@ -${range(hunk.oldStart, hunk.oldLength)} +${range(hunk.newStart, hunk.newLength)} @@\n`;
    for (const op of hunk.ops) {
      const noNewline = op.line.endsWith('\n') ? '' : '\n\\ No newline at end of file';
      out += `${op.kind}${op.line.replace(/\r?\n$/, '')}${noNewline}\n`;
    }
  }
  return out;
}

/** Lines with their line ends kept (so a missing final newline is visible). */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function range(start: number, length: number): string {
  // diff's convention: an empty range names the line before it.
  return length === 1 ? `${start}` : `${length === 0 ? start - 1 : start},${length}`;
}

/** Longest common subsequence over the lines between a shared prefix and suffix; setup's files are small. */
function diffLines(a: string[], b: string[]): Op[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const midA = a.slice(prefix, a.length - suffix);
  const midB = b.slice(prefix, b.length - suffix);
  const n = midA.length;
  const m = midB.length;
  // lengths[i][j] = LCS length of midA[i..] and midB[j..]
  const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i]![j] = midA[i] === midB[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const ops: Op[] = a.slice(0, prefix).map((line) => ({ kind: ' ', line }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      ops.push({ kind: ' ', line: midA[i]! });
      i++;
      j++;
    } else if (j < m && (i === n || lengths[i]![j + 1]! >= lengths[i + 1]![j]!)) {
      ops.push({ kind: '+', line: midB[j]! });
      j++;
    } else {
      ops.push({ kind: '-', line: midA[i]! });
      i++;
    }
  }
  // Removals before additions inside a run of changes, as diff prints them.
  const ordered: Op[] = [];
  for (let k = 0; k < ops.length; ) {
    if (ops[k]!.kind === ' ') {
      ordered.push(ops[k++]!);
      continue;
    }
    const run: Op[] = [];
    while (k < ops.length && ops[k]!.kind !== ' ') run.push(ops[k++]!);
    ordered.push(...run.filter((op) => op.kind === '-'), ...run.filter((op) => op.kind === '+'));
  }
  for (const line of a.slice(a.length - suffix)) ordered.push({ kind: ' ', line });
  return ordered;
}

interface Hunk {
  oldStart: number;
  oldLength: number;
  newStart: number;
  newLength: number;
  ops: Op[];
}

function groupHunks(ops: Op[], context: number): Hunk[] {
  const changed = ops.flatMap((op, index) => (op.kind === ' ' ? [] : [index]));
  const hunks: Hunk[] = [];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = changed[k]!;
    // Extend while the next change is close enough that the contexts touch.
    while (k + 1 < changed.length && changed[k + 1]! - end <= 2 * context) end = changed[++k]!;
    k++;
    const stop = Math.min(ops.length, end + context + 1);
    let oldLine = 1;
    let newLine = 1;
    for (const op of ops.slice(0, start)) {
      if (op.kind !== '+') oldLine++;
      if (op.kind !== '-') newLine++;
    }
    const slice = ops.slice(start, stop);
    hunks.push({
      oldStart: oldLine,
      oldLength: slice.filter((op) => op.kind !== '+').length,
      newStart: newLine,
      newLength: slice.filter((op) => op.kind !== '-').length,
      ops: slice,
    });
  }
  return hunks;
}
