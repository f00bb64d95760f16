/** @jsxImportSource hono/jsx */
import type { FieldError } from '../../core/errors.js';
import { type Field, itemName } from './compose-fields.js';
import { listRows } from './compose-values.js';
import { formatNumber } from './format.js';

/**
 * The inputs of a generated compose form (compose-fields.ts). Each input is named by its error path, so
 * an error the template's schema reports lands under the input it is about.
 */

export interface FieldsProps {
  fields: Field[];
  values: Record<string, string>;
  errors: FieldError[];
  /** The props as last read, for how many rows each list shows. */
  props: Record<string, unknown>;
}

const idOf = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

export function PropsFields({ fields, values, errors, props }: FieldsProps) {
  const errorOf = (name: string) => errors.find((e) => e.path === name)?.message;
  return (
    <>
      {fields.map((f) => (
        <FieldInput key={f.name} field={f} name={f.name} values={values} errorOf={errorOf} props={props} />
      ))}
    </>
  );
}

interface InputProps {
  field: Field;
  name: string;
  values: Record<string, string>;
  errorOf: (name: string) => string | undefined;
  props: Record<string, unknown>;
}

function FieldInput({ field: f, name, values, errorOf, props }: InputProps) {
  const id = idOf(name);
  const error = errorOf(name);
  const hint = hintOf(f);
  const described = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': described,
  };
  const value = values[name] ?? '';
  const label = (
    <label for={id}>
      {f.label}
      {f.required ? null : <span class="muted"> (optional)</span>}
    </label>
  );
  const notes = (
    <>
      {hint ? (
        <p id={`${id}-hint`} class="muted small field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="error small">
          {error}
        </p>
      ) : null}
    </>
  );

  switch (f.kind) {
    case 'text':
    case 'url':
      return (
        <div class="field">
          {label}
          <input
            {...common}
            type={f.kind === 'url' ? 'url' : 'text'}
            value={value}
            required={f.required}
            maxlength={f.maxLength}
            placeholder={f.kind === 'url' ? 'https://' : f.defaultValue}
            spellcheck={f.kind === 'url' ? false : undefined}
          />
          {notes}
        </div>
      );
    case 'longtext':
    case 'lines':
    case 'json':
      return (
        <div class="field">
          {label}
          <textarea
            {...common}
            rows={f.kind === 'longtext' ? 8 : 5}
            required={f.required && f.kind !== 'lines'}
            maxlength={f.kind === 'longtext' ? f.maxLength : undefined}
            spellcheck={f.kind === 'json' ? false : undefined}
            class={f.kind === 'json' ? 'code' : undefined}
          >
            {value}
          </textarea>
          {notes}
        </div>
      );
    case 'number':
      return (
        <div class="field narrow">
          {label}
          <input
            {...common}
            type="number"
            value={value}
            min={f.min}
            max={f.max}
            step={f.integer ? 1 : 'any'}
            placeholder={f.defaultValue === undefined ? undefined : String(f.defaultValue)}
          />
          {notes}
        </div>
      );
    case 'choice':
      return (
        <div class="field">
          {label}
          <select {...common} required={f.required}>
            {f.required ? null : <option value="">—</option>}
            {f.options.map((o) => (
              <option key={o} value={o} selected={(value || f.defaultValue) === o}>
                {o}
              </option>
            ))}
          </select>
          {notes}
        </div>
      );
    case 'check':
      return (
        <div class="field">
          <label class="check" for={id}>
            <input {...common} type="checkbox" checked={value === 'on' || (value === '' && f.defaultValue === true)} />
            <span>{f.label}</span>
          </label>
          {notes}
        </div>
      );
    case 'group':
      return (
        <fieldset>
          <legend>{f.label}</legend>
          {f.fields.map((c) => (
            <FieldInput key={c.name} field={c} name={c.name} values={values} errorOf={errorOf} props={props} />
          ))}
        </fieldset>
      );
    case 'list': {
      const rows = listRows(f, props);
      const listError = errorOf(name);
      return (
        <fieldset class="list-field" aria-describedby={listError ? `${id}-error` : undefined}>
          <legend>{f.label}</legend>
          {hint ? <p class="muted small field-hint">{hint}</p> : null}
          {listError ? (
            <p id={`${id}-error`} class="error small">
              {listError}
            </p>
          ) : null}
          {Array.from({ length: rows }, (_, i) => (
            <fieldset key={String(i)} class="list-row">
              <legend>
                {rowName(f.label)} {i + 1}
                {i >= (f.min ?? 0) ? <span class="muted"> (leave blank to skip)</span> : null}
              </legend>
              {f.item.map((c) => (
                <FieldInput
                  key={itemName(c, i)}
                  field={{ ...c, required: c.required && i < (f.min ?? 0) }}
                  name={itemName(c, i)}
                  values={values}
                  errorOf={errorOf}
                  props={props}
                />
              ))}
            </fieldset>
          ))}
        </fieldset>
      );
    }
  }
}

/** "Links" names the list; each row is "Link 1", "Link 2". */
const rowName = (label: string) => (/[^s]s$/.test(label) ? label.slice(0, -1) : label);

/** What the author should know before typing: the limits the template will hold them to. */
function hintOf(f: Field): string | undefined {
  const parts: string[] = f.help ? [f.help] : [];
  if (f.kind === 'longtext') parts.push('Plain text; a blank line starts a new paragraph.');
  if ((f.kind === 'longtext' || f.kind === 'text') && f.maxLength)
    parts.push(`Up to ${formatNumber(f.maxLength)} characters.`);
  if (f.kind === 'url') parts.push('An https:// address.');
  if (f.kind === 'lines') parts.push('One per line.');
  if (f.kind === 'json') parts.push('JSON, as the template expects it.');
  if (f.kind === 'number' && f.defaultValue !== undefined) parts.push(`Blank for ${f.defaultValue}.`);
  if (f.kind === 'text' && f.defaultValue) parts.push(`Blank for “${f.defaultValue}”.`);
  if (f.kind === 'list' && f.max) parts.push(`Up to ${f.max}; fill the rows you need.`);
  return parts.length ? parts.join(' ') : undefined;
}
