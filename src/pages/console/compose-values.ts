import { openingLine } from '../../../emails/_components/props.js';
import type { FieldError } from '../../core/errors.js';
import { type Field, itemName } from './compose-fields.js';

/** A posted form as readBody gives it: one string, or several for a repeated name. */
export type FormData = Record<string, unknown>;

const one = (v: unknown): string => (Array.isArray(v) ? String(v.at(-1) ?? '') : typeof v === 'string' ? v : '');

/**
 * The props a posted compose form describes. Blank optional fields are left out, so the template's
 * defaults apply; a blank required one stays '', so the template's own message ("Title must not be
 * empty") is what the author reads. Only what cannot be a value at all (a number that is not one, JSON
 * that does not parse) is an error here; every other rule is the template's schema's.
 */
export function readProps(fields: Field[], data: FormData): { props: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const root = fields.length === 1 && fields[0]!.key === '' ? undefined : fields;
  if (!root) {
    const value = readField(fields[0]!, fields[0]!.name, data, errors);
    const props = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    if (value !== undefined && props !== value) errors.push({ path: 'props', message: 'must be a JSON object' });
    return { props: props as Record<string, unknown>, errors };
  }
  return { props: readObject(root, (f) => f.name, data, errors), errors };
}

function readObject(fields: Field[], nameOf: (f: Field) => string, data: FormData, errors: FieldError[]) {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const value = readField(f, nameOf(f), data, errors);
    if (value !== undefined) out[f.key] = value;
  }
  return out;
}

function readField(f: Field, name: string, data: FormData, errors: FieldError[]): unknown {
  const raw = one(data[name]);
  switch (f.kind) {
    case 'text':
    case 'longtext':
    case 'url':
    case 'choice':
      // Line endings as a textarea posts them (CRLF) are the author's newlines.
      return raw.trim() === '' ? (f.required ? '' : undefined) : raw.replace(/\r\n?/g, '\n');
    case 'number': {
      if (raw.trim() === '') return undefined;
      const n = Number(raw);
      if (Number.isFinite(n)) return n;
      errors.push({ path: name, message: `${f.label} must be a number` });
      return undefined;
    }
    case 'check':
      return data[name] !== undefined;
    case 'lines':
      return raw
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
    case 'group':
      return readObject(f.fields, (c) => c.name, data, errors);
    case 'list': {
      const items: Record<string, unknown>[] = [];
      for (let i = 0; i < rowsPosted(f, data); i++) {
        // A row left blank is no item: the form always offers a few empty rows.
        if (f.item.every((c) => one(data[itemName(c, i)]).trim() === '')) continue;
        // Kept rows are renumbered, so an error names the row as the form shows it after a save.
        items.push(readObject(f.item, (c) => itemName(c, i), data, errors));
      }
      return items;
    }
    case 'json': {
      if (raw.trim() === '') return undefined;
      try {
        return JSON.parse(raw);
      } catch (err) {
        errors.push({ path: name, message: `${f.label} is not valid JSON: ${(err as Error).message}` });
        return undefined;
      }
    }
  }
}

/** How many rows of a list the form posted (the highest row index present, plus one). */
function rowsPosted(f: Extract<Field, { kind: 'list' }>, data: FormData): number {
  const prefix = `${f.name}.`;
  let rows = 0;
  for (const key of Object.keys(data)) {
    if (!key.startsWith(prefix)) continue;
    const i = Number(key.slice(prefix.length).split('.')[0]);
    if (Number.isInteger(i) && i >= 0 && i < 100) rows = Math.max(rows, i + 1);
  }
  return rows;
}

/** What each input shows: the props flattened to form names, the way readProps reads them back. */
export function formValues(fields: Field[], props: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (f: Field, name: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (f.kind === 'json') out[name] = JSON.stringify(value, null, 2);
    else if (f.kind === 'lines' && Array.isArray(value)) out[name] = value.map(String).join('\n');
    else if (f.kind === 'check') out[name] = value ? 'on' : '';
    else if (f.kind === 'group' && typeof value === 'object')
      for (const c of f.fields) put(c, c.name, (value as Record<string, unknown>)[c.key]);
    else if (f.kind === 'list' && Array.isArray(value))
      value.forEach((item, i) => {
        for (const c of f.item) put(c, itemName(c, i), (item as Record<string, unknown> | null)?.[c.key]);
      });
    else if (typeof value !== 'object') out[name] = String(value);
  };
  if (fields.length === 1 && fields[0]!.key === '') put(fields[0]!, fields[0]!.name, props);
  else for (const f of fields) put(f, f.name, props[f.key]);
  return out;
}

/** Rows a list shows: what it holds plus one empty row, at least its minimum, at most its maximum. */
export function listRows(f: Extract<Field, { kind: 'list' }>, props: Record<string, unknown>): number {
  const held = Array.isArray(props[f.key]) ? (props[f.key] as unknown[]).length : 0;
  const wanted = Math.max(held + 1, f.min ?? 1, 2);
  return f.max === undefined ? wanted : Math.min(Math.max(f.max, held), wanted);
}

/**
 * What a blank preheader will show: the template takes the opening of its text (emails/_components/props.ts
 * openingLine), and the form shows that line as the field's placeholder, from the first long text.
 */
export function openingLineHint(fields: Field[], props: Record<string, unknown>): string {
  const source = fields.find((f) => f.kind === 'longtext' && typeof props[f.key] === 'string');
  return source ? openingLine(String(props[source.key])) : '';
}
