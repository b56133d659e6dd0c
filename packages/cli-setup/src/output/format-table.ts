/** One column of a table: its header and how to show a row's cell. */
export interface TableColumn<Row> {
  header: string;
  value: (row: Row) => string;
  /** Cells longer than this are cut with an ellipsis. Default 60. */
  maxWidth?: number;
}

const ansi = /\u001b\[[0-9;]*m/g;

/** Width of a string as shown on a terminal (colour codes excluded). */
export function visibleWidth(text: string): number {
  return [...text.replace(ansi, '')].length;
}

function cut(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  const plain = [...text.replace(ansi, '')];
  return `${plain.slice(0, Math.max(1, width - 1)).join('')}…`;
}

/**
 * A plain-text table: a header row, then one line per row, columns padded to their widest cell.
 * Newlines inside cells become spaces.
 *
 * @example
 * formatTable([{ id: 'acme' }], [{ header: 'ID', value: (row) => row.id }]) // 'ID\nacme'
 */
export function formatTable<Row>(
  rows: readonly Row[],
  columns: readonly TableColumn<Row>[],
  header: (text: string) => string = (text) => text,
): string {
  const cells = rows.map((row) => columns.map((column) => cut(column.value(row).replace(/\s*\n\s*/g, ' '), column.maxWidth ?? 60)));
  const widths = columns.map((column, index) =>
    Math.max(visibleWidth(column.header), ...cells.map((line) => visibleWidth(line[index] ?? ''))),
  );
  const pad = (text: string, index: number) =>
    index === columns.length - 1 ? text : text + ' '.repeat((widths[index] ?? 0) - visibleWidth(text));
  const lines = [
    header(
      columns
        .map((column, index) => pad(column.header, index))
        .join('  ')
        .trimEnd(),
    ),
  ];
  for (const line of cells) lines.push(line.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}
