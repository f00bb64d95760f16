/** @jsxImportSource hono/jsx */
import { subscriberStatuses } from '../../db/schema.js';
import { ConsoleLayout } from './layout.js';

/**
 * Import and export: a CSV in (checked first, see import-preview.tsx) and the list out, in the format
 * the import — and `quire subscribers import` — reads back as it is.
 */

export interface ImportPageProps {
  bookTitle: string;
  csrf: string;
  topics: { slug: string; name: string }[];
  notice?: { text: string; bad?: boolean } | undefined;
  /** A problem with the file just posted (not CSV, no email column, empty). */
  error?: string | undefined;
}

export function ImportPage({ bookTitle, csrf, topics, notice, error }: ImportPageProps) {
  return (
    <ConsoleLayout title="Import and export" section="import" bookTitle={bookTitle} csrf={csrf} notice={notice}>
      <div class="panels">
        <section class="panel" aria-labelledby="import-heading">
          <h2 id="import-heading">Import a CSV</h2>
          <p>
            A header row, then one person a row. Only <code>email</code> is needed; <code>name</code>,{' '}
            <code>topics</code> (slugs separated by <code>;</code>), <code>consent_at</code> and{' '}
            <code>consent_source</code> are read too, and a file exported here imports as it is.
          </p>
          <ul class="small">
            <li>
              With <code>consent_at</code> and <code>consent_source</code> (when and how they agreed), a person is added
              as active.
            </li>
            <li>Without them, a person is added as pending and gets a confirmation mail first.</li>
            <li>Nobody who unsubscribed, bounced or complained is added back; nobody on the list is changed.</li>
          </ul>
          {/* Multipart for the file; the hidden field is the one every console form carries. */}
          <form method="post" action="/admin/import/preview" enctype="multipart/form-data">
            <input type="hidden" name="_csrf" value={csrf} />
            <label for="f-csv">CSV file</label>
            <input
              type="file"
              id="f-csv"
              name="csv"
              accept=".csv,text/csv"
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'f-csv-error' : undefined}
            />
            <label for="f-csv-text">or paste it here</label>
            <textarea id="f-csv-text" name="csv_text" rows={5} class="code" spellcheck={false}></textarea>
            {error ? (
              <p id="f-csv-error" class="error" role="alert">
                {error}
              </p>
            ) : null}
            <div class="actions">
              <button type="submit">Check the file</button>
              <span class="muted small">Nothing is imported until you confirm on the next page.</span>
            </div>
          </form>
        </section>
        <section class="panel" aria-labelledby="export-heading">
          <h2 id="export-heading">Export the list</h2>
          <p>
            Everyone on the list but the erased, as CSV: email, name, status, topics and when they signed up and
            confirmed.
          </p>
          <form method="get" action="/admin/import/export">
            <label for="f-status">Status</label>
            <select id="f-status" name="status">
              <option value="">Any</option>
              {subscriberStatuses
                .filter((s) => s !== 'erased')
                .map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
            </select>
            <label for="f-topic">Topic</label>
            <select id="f-topic" name="topic">
              <option value="">Any</option>
              {topics.map((t) => (
                <option key={t.slug} value={t.slug}>
                  {t.name}
                </option>
              ))}
            </select>
            <div class="actions">
              <button type="submit" class="secondary">
                Download CSV
              </button>
            </div>
          </form>
        </section>
      </div>
    </ConsoleLayout>
  );
}
