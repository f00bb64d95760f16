import { AppError } from '../../../core/errors.js';
import { type CsvImport, readImportCsv } from '../../../core/lists/csv.js';
import { formatNumber } from '../../../pages/console/format.js';
import { CONSOLE_IMPORT_MAX_ROWS } from './limits.js';

/** A posted CSV read as the CLI reads one; an empty file, or one over the row cap, is the author's to fix. */
export function readUpload(text: string): CsvImport {
  const csv = readImportCsv(text);
  if (csv.rows.length === 0) throw new AppError('validation_failed', 'The file has a header row but no rows under it.');
  if (csv.rows.length > CONSOLE_IMPORT_MAX_ROWS)
    throw new AppError(
      'validation_failed',
      `The file has ${formatNumber(csv.rows.length)} rows; split it into files of up to ${formatNumber(CONSOLE_IMPORT_MAX_ROWS)}.`,
    );
  return csv;
}
