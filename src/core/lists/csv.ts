import { CsvError, parse } from 'csv-parse/sync';
import { AppError } from '../errors.js';
import type { ImportRow } from './import-row.js';

/** The columns an import reads; `quire subscribers export` writes a file these take back as it is. */
export const IMPORT_COLUMNS = [
  'email',
  'name',
  'topics',
  'consent_at',
  'consent_source',
  'consent_text',
  'consent_version',
  'status',
  'confirmed_at',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export interface CsvImport {
  /** Each header cell as written, and the import field it feeds (null: ignored). */
  mapping: { header: string; field: ImportColumn | null }[];
  rows: ImportRow[];
}

const fieldName = (header: string) =>
  header
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/**
 * A CSV with a header row, read the one way the CLI and the console both read it: BOM-safe, trimmed,
 * header names matched loosely ("Consent At" is consent_at), and each row keeping the line it starts on
 * so the author can find it. A file that is not CSV, or has no email column, is a validation error.
 */
export function readImportCsv(text: string): CsvImport {
  let header: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      columns: (names: string[]) => {
        header = names;
        return names.map(fieldName);
      },
    }) as typeof records;
  } catch (err) {
    if (err instanceof CsvError) throw new AppError('validation_failed', `Not a CSV file we can read: ${err.message}`);
    throw err;
  }
  const mapping = header.map((h) => {
    const name = fieldName(h);
    return { header: h, field: (IMPORT_COLUMNS as readonly string[]).includes(name) ? (name as ImportColumn) : null };
  });
  if (!mapping.some((m) => m.field === 'email'))
    throw new AppError(
      'validation_failed',
      `The header row needs an "email" column (found: ${header.join(', ').slice(0, 200) || 'nothing'}).`,
    );

  const rows = records.map(({ record, info }) => {
    const row: Record<string, string | number> = {};
    let newlines = 0;
    for (const column of IMPORT_COLUMNS) {
      // Undo the export's formula guard (core/lists/export.ts), so an exported file imports as it was.
      const value = (record[column] ?? '').replace(/^'(?=[=+\-@\t\r])/, '');
      newlines += value.split('\n').length - 1;
      if (value !== '') row[column] = value;
    }
    row.email ??= '';
    // info.lines is where the record ends; a quoted value may span lines.
    row.row = info.lines - newlines;
    return row as unknown as ImportRow;
  });
  return { mapping, rows };
}
