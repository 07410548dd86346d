/**
 * CSV as spreadsheets read it (RFC 4180): comma-separated, CRLF, fields quoted when they hold a
 * comma, quote or line break. A cell a spreadsheet would run as a formula (=, +, -, @ first) is
 * prefixed with ' — the exports hold customers' words, and a CSV is opened by people.
 */
export type Cell = string | number | boolean | null | undefined;

function cell(value: Cell): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !(typeof value === 'number')) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
