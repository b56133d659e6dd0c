import type { Colors } from '../cli-io.js';

/**
 * The lines that differ between two texts, as `-`/`+` lines with two lines of context around
 * each change (a longest-common-subsequence diff; configuration files are small).
 *
 * @example
 * formatLineDiff('a\nb\n', 'a\nc\n') // '  a\n- b\n+ c'
 */
export function formatLineDiff(before: string, after: string, colors?: Colors, context = 2): string {
  const left = before.split('\n');
  const right = after.split('\n');
  const rows = left.length + 1;
  const columns = right.length + 1;
  const table = new Uint32Array(rows * columns);
  for (let i = left.length - 1; i >= 0; i--) {
    for (let j = right.length - 1; j >= 0; j--) {
      table[i * columns + j] =
        left[i] === right[j]
          ? (table[(i + 1) * columns + j + 1] ?? 0) + 1
          : Math.max(table[(i + 1) * columns + j] ?? 0, table[i * columns + j + 1] ?? 0);
    }
  }
  const lines: { kind: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i < left.length && j < right.length && left[i] === right[j]) {
      lines.push({ kind: ' ', text: left[i] ?? '' });
      i++;
      j++;
    } else if (j < right.length && (i >= left.length || (table[i * columns + j + 1] ?? 0) >= (table[(i + 1) * columns + j] ?? 0))) {
      lines.push({ kind: '+', text: right[j] ?? '' });
      j++;
    } else {
      lines.push({ kind: '-', text: left[i] ?? '' });
      i++;
    }
  }
  const keep = lines.map(
    (line, index) => line.kind !== ' ' || lines.slice(Math.max(0, index - context), index + context + 1).some((near) => near.kind !== ' '),
  );
  const out: string[] = [];
  let skipped = false;
  lines.forEach((line, index) => {
    if (!keep[index]) {
      if (!skipped) out.push(colors ? colors.dim('  …') : '  …');
      skipped = true;
      return;
    }
    skipped = false;
    const text = `${line.kind} ${line.text}`;
    out.push(!colors || line.kind === ' ' ? text : line.kind === '+' ? colors.green(text) : colors.red(text));
  });
  while (out.length > 0 && /^\s*(…)?$/.test(out[out.length - 1]?.replace(/\u001b\[[0-9;]*m/g, '') ?? '')) out.pop();
  return out.join('\n');
}
