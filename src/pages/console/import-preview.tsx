/** @jsxImportSource hono/jsx */
import type { CsvImport } from '../../core/lists/csv.js';
import type { ImportPreview, RowAction } from '../../core/lists/import-preview.js';
import { formatNumber as fmt } from './format.js';
import { ConsoleForm, ConsoleLayout } from './layout.js';

/**
 * The import's dry run, shown before anything is written: how each column is read, and what will happen
 * to each row. The file travels back in the confirmation form, so the import reads exactly what was
 * checked — and decides again, under its locks, in case the list changed meanwhile.
 */

export const ACTION_LABELS: Record<RowAction, { label: string; cls: string }> = {
  add_active: { label: 'added, active', cls: 'badge ok' },
  add_pending: { label: 'added, pending', cls: 'badge' },
  activate: { label: 'becomes active', cls: 'badge ok' },
  skip_existing: { label: 'skipped: on the list', cls: 'badge' },
  skip_left: { label: 'skipped: left', cls: 'badge' },
  invalid: { label: 'skipped: invalid', cls: 'badge bad' },
};

/** Rows listed on the page; the counts above them always cover the whole file. */
const SHOWN_ROWS = 1000;

export interface ImportPreviewPageProps {
  bookTitle: string;
  csrf: string;
  fileName: string;
  csv: string;
  mapping: CsvImport['mapping'];
  preview: ImportPreview;
}

export function ImportPreviewPage({ bookTitle, csrf, fileName, csv, mapping, preview }: ImportPreviewPageProps) {
  const c = preview.counts;
  const writes = c.add_active + c.add_pending + c.activate;
  const shown = preview.rows.slice(0, SHOWN_ROWS);
  return (
    <ConsoleLayout title="Check the import" section="import" bookTitle={bookTitle} csrf={csrf}>
      <p>
        <strong>{fileName}</strong>: {fmt(preview.rows.length)} {preview.rows.length === 1 ? 'row' : 'rows'}. Nothing
        has been imported yet.
      </p>
      <section class="panel" aria-labelledby="outcome-heading">
        <h2 id="outcome-heading">What will happen</h2>
        <ul class="tiles">
          {(Object.keys(ACTION_LABELS) as RowAction[]).map((a) => (
            <li key={a}>
              <span class="n">{fmt(c[a])}</span>
              <span class="what">{ACTION_LABELS[a].label}</span>
            </li>
          ))}
        </ul>
        {c.add_pending ? (
          <p class="small">
            The {fmt(c.add_pending)} pending {c.add_pending === 1 ? 'person gets' : 'people get'} a confirmation mail
            and only {c.add_pending === 1 ? 'receives' : 'receive'} broadcasts once they confirm.
          </p>
        ) : null}
        {writes > 0 ? (
          <ConsoleForm action="/admin/import/commit" csrf={csrf}>
            <input type="hidden" name="csv" value={csv} />
            <input type="hidden" name="file_name" value={fileName} />
            <div class="actions">
              <button type="submit">
                Import {fmt(writes)} {writes === 1 ? 'row' : 'rows'}
              </button>
              <a href="/admin/import">Choose another file</a>
            </div>
          </ConsoleForm>
        ) : (
          <p>
            Nothing in this file would change the list. <a href="/admin/import">Choose another file</a>.
          </p>
        )}
      </section>

      <section class="panel" aria-labelledby="mapping-heading">
        <h2 id="mapping-heading">Columns</h2>
        <div class="table-wrap">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">In the file</th>
                <th scope="col">Read as</th>
              </tr>
            </thead>
            <tbody>
              {mapping.map((m) => (
                <tr key={m.header}>
                  <td>{m.header}</td>
                  <td>{m.field ? <code>{m.field}</code> : <span class="muted">ignored</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section class="panel" aria-labelledby="rows-heading">
        <h2 id="rows-heading">Row by row</h2>
        {preview.rows.length > SHOWN_ROWS ? (
          <p class="muted small">
            The first {fmt(SHOWN_ROWS)} rows; the counts above cover all {fmt(preview.rows.length)}.
          </p>
        ) : null}
        <div class="table-wrap">
          <table class="data">
            <thead>
              <tr>
                <th scope="col" class="num">
                  Line
                </th>
                <th scope="col">Email</th>
                <th scope="col">What happens</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={String(r.row)} class={`row-${r.action}`}>
                  <td class="num">{r.row}</td>
                  <td class="email">{r.email || <span class="muted">(none)</span>}</td>
                  <td>
                    <span class={ACTION_LABELS[r.action].cls}>{ACTION_LABELS[r.action].label}</span>
                  </td>
                  <td class="small">
                    {r.detail}
                    {r.topics.length && r.action !== 'invalid' ? (
                      <span class="muted block">topics: {r.topics.join(', ')}</span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </ConsoleLayout>
  );
}
