/** @jsxImportSource hono/jsx */
import type { FieldError } from '../../core/errors.js';
import { AudienceLine } from './broadcast-audience.js';
import type { Field } from './compose-fields.js';
import { PropsFields } from './compose-form.js';
import { ConsoleForm, ConsoleLayout } from './layout.js';

/**
 * Compose: the envelope, the template's generated fields and the preview side by side. One form with
 * four ways out — save, preview (saves, then shows the frames), test send, review and send — so nothing
 * typed is lost whichever the author presses. The preview frames load the saved draft; the compose
 * script posts the unsaved form into them as the author types.
 */

export interface ComposePageProps {
  bookTitle: string;
  csrf: string;
  /** Undefined for a broadcast not saved yet. */
  id?: string | undefined;
  template: { name: string; description: string };
  topics: { slug: string; name: string }[];
  fields: Field[];
  draft: { topic: string; subject: string; preheader: string; props: Record<string, unknown> };
  values: Record<string, string>;
  errors: FieldError[];
  /** What a blank preheader shows in the inbox: the opening line of the text. */
  openingLine: string;
  /** The author's own addresses, as last used for a test. */
  testTo: string;
  audience?: { audience: number; excluded: Record<string, number> } | undefined;
  notice?: { text: string; bad?: boolean } | undefined;
}

export function ComposePage(p: ComposePageProps) {
  const action = p.id ? `/admin/broadcasts/${p.id}` : '/admin/broadcasts';
  const errorOf = (path: string) => p.errors.find((e) => e.path === path)?.message;
  const previewSrc = (format: string) => (p.id ? `/admin/broadcasts/${p.id}/preview?format=${format}` : undefined);
  return (
    <ConsoleLayout
      title={p.id ? 'Edit draft' : 'New broadcast'}
      section="broadcasts"
      bookTitle={p.bookTitle}
      csrf={p.csrf}
      notice={p.notice}
      scripts={['/assets/console-compose.js']}
    >
      {p.errors.length ? (
        <div class="notice-bad" role="alert" id="problems">
          <p>
            <strong>Some fields need attention:</strong>
          </p>
          <ul>
            {p.errors.map((e) => (
              <li key={e.path}>
                <a href={`#f-${e.path.replace(/[^A-Za-z0-9_-]/g, '-')}`}>{e.message}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="compose">
        <div class="panel">
          <ConsoleForm action={action} csrf={p.csrf} id="compose">
            <input type="hidden" name="template" value={p.template.name} />
            <p class="small">
              Template <strong>{p.template.name}</strong>: {p.template.description}
              {p.id ? null : (
                <>
                  {' '}
                  <a href="/admin/broadcasts/new">Change</a>
                </>
              )}
            </p>
            <div class="field">
              <label for="f-topic">Goes to the subscribers of</label>
              <select id="f-topic" name="topic" required>
                {p.topics.map((t) => (
                  <option key={t.slug} value={t.slug} selected={t.slug === p.draft.topic}>
                    {t.name} ({t.slug})
                  </option>
                ))}
              </select>
            </div>
            <Envelope name="subject" label="Subject" value={p.draft.subject} error={errorOf('subject')} required />
            <Envelope
              name="preheader"
              label="Preheader"
              value={p.draft.preheader}
              error={errorOf('preheader')}
              placeholder={p.openingLine}
              hint="The line inboxes show after the subject. Blank: the email's opening line."
            />
            <fieldset>
              <legend>What the email says</legend>
              <PropsFields fields={p.fields} values={p.values} errors={p.errors} props={p.draft.props} />
            </fieldset>
            <div class="actions">
              <button type="submit" name="intent" value="save">
                Save draft
              </button>
              <button type="submit" name="intent" value="preview" class="secondary">
                Preview
              </button>
            </div>
            <fieldset>
              <legend>Test send</legend>
              <label for="f-test-to">Send a test to</label>
              <input
                type="text"
                id="f-test-to"
                name="test_to"
                value={p.testTo}
                autocomplete="email"
                aria-describedby="f-test-to-hint"
                aria-invalid={errorOf('test_to') ? 'true' : undefined}
              />
              <p id="f-test-to-hint" class="muted small field-hint">
                Your own addresses, separated by commas (up to 10). The subject is marked [Test].
              </p>
              {errorOf('test_to') ? <p class="error small">{errorOf('test_to')}</p> : null}
              <button type="submit" name="intent" value="test" class="secondary">
                Save and send test
              </button>
            </fieldset>
            <div class="actions">
              <button type="submit" name="intent" value="review">
                Review and send…
              </button>
            </div>
          </ConsoleForm>
        </div>
        <section
          class="panel preview"
          id="preview"
          aria-labelledby="preview-heading"
          data-saved={p.id ? 'true' : 'false'}
        >
          <h2 id="preview-heading">Preview</h2>
          {p.audience ? <AudienceLine audience={p.audience} /> : null}
          <p class="muted small" id="preview-note">
            {p.id
              ? 'As a reader named Ada gets it, from the saved draft. Press Preview to see your changes.'
              : 'Press Preview to see the email.'}
          </p>
          <PreviewFrame name="preview-desktop" format="html" title="Desktop" src={previewSrc('html')} />
          <PreviewFrame name="preview-phone" format="html" title="Phone, 375 px wide" src={previewSrc('html')} />
          <PreviewFrame name="preview-text" format="text" title="Text part" src={previewSrc('text')} />
        </section>
      </div>
    </ConsoleLayout>
  );
}

function Envelope(props: {
  name: string;
  label: string;
  value: string;
  error?: string | undefined;
  required?: boolean;
  placeholder?: string;
  hint?: string;
}) {
  const id = `f-${props.name}`;
  const described = [props.error ? `${id}-error` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        type="text"
        id={id}
        name={props.name}
        value={props.value}
        maxlength={200}
        required={props.required}
        placeholder={props.placeholder}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {props.hint ? (
        <p id={`${id}-hint`} class="muted small field-hint">
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p id={`${id}-error`} class="error small">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A sandboxed frame: no script and an opaque origin inside, links open outside it. Its answer carries the
 * email's own CSP; the compose script targets it by name with the form's unsaved content.
 */
function PreviewFrame(props: { name: string; format: string; title: string; src?: string | undefined }) {
  return (
    <figure class={`frame ${props.name}`}>
      <figcaption>{props.title}</figcaption>
      <iframe
        name={props.name}
        title={`${props.title} preview`}
        src={props.src ?? 'about:blank'}
        sandbox="allow-popups allow-popups-to-escape-sandbox"
        data-format={props.format}
      ></iframe>
    </figure>
  );
}
