import { globalRegistry, type z } from 'zod';
import { isHttpsUrl } from '../../../emails/_components/props.js';

/**
 * The compose form, generated from a template's zod props schema (emails/index.ts): each prop becomes a
 * field by its shape — short text, long text, https URL, number, choice, checkbox, a list of lines, a
 * repeatable group (the release's links) — and anything else a JSON box. The same field list reads the
 * posted form back into props, which the template's schema then checks as it checks any draft.
 * Form names are the error paths: `props.links.0.url` names the input and the error about it.
 */

interface FieldBase {
  /** The prop's key in its object. */
  key: string;
  /** The form field's name: `props.` + the path. */
  name: string;
  label: string;
  required: boolean;
  /** From the schema's description (`.describe()` / `.meta()`), when it has one. */
  help?: string | undefined;
}

export type Field =
  | (FieldBase & { kind: 'text' | 'longtext' | 'url'; maxLength?: number; defaultValue?: string })
  | (FieldBase & { kind: 'number'; integer: boolean; min?: number; max?: number; defaultValue?: number })
  | (FieldBase & { kind: 'choice'; options: string[]; defaultValue?: string })
  | (FieldBase & { kind: 'check'; defaultValue?: boolean })
  | (FieldBase & { kind: 'lines'; min?: number; max?: number })
  | (FieldBase & { kind: 'list'; min?: number; max?: number; item: Field[] })
  | (FieldBase & { kind: 'group'; fields: Field[] })
  | (FieldBase & { kind: 'json' });

/** Strings longer than this may hold paragraphs: a textarea rather than a one-line input. */
const LONG_TEXT = 300;

type Def = Record<string, unknown> & { type: string; checks?: { _zod: { def: Record<string, unknown> } }[] };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (s: z.ZodType) => (defOf(s).checks ?? []).map((c) => c._zod.def);

/** Through optional, nullable, default, readonly and transforms, to the shape the author fills in. */
function unwrap(schema: z.ZodType) {
  let s = schema;
  let required = true;
  let defaultValue: unknown;
  for (let depth = 0; depth < 10; depth++) {
    const def = defOf(s);
    if (def.type === 'optional' || def.type === 'nullable') required = false;
    else if (def.type === 'default' || def.type === 'prefault') {
      required = false;
      defaultValue ??= def.defaultValue;
    } else if (def.type !== 'readonly' && def.type !== 'pipe') break;
    s = (def.type === 'pipe' ? def.in : def.innerType) as z.ZodType;
  }
  return { inner: s, required, defaultValue };
}

/** The label a template gave the prop in its own messages ("Cover image URL is required"), else its key. */
function labelOf(key: string, schema: z.ZodType, inner: z.ZodType): string {
  const described = globalRegistry.get(schema)?.title ?? globalRegistry.get(inner)?.title;
  if (typeof described === 'string') return described;
  const issue = inner.safeParse(undefined).error?.issues[0]?.message ?? '';
  const named = /^(.{1,60}?) is required$/.exec(issue)?.[1];
  if (named) return named;
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  const text = words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
  return text.replace(/\b(url|id|html|isbn)\b/gi, (w) => w.toUpperCase());
}

const bound = (checks: Record<string, unknown>[], name: string, field: string) => {
  const c = checks.find((d) => d.check === name);
  return typeof c?.[field] === 'number' ? (c[field] as number) : undefined;
};

function fieldOf(key: string, name: string, schema: z.ZodType): Field {
  const { inner, required, defaultValue } = unwrap(schema);
  const def = defOf(inner);
  const checks = checksOf(inner);
  const help = globalRegistry.get(schema)?.description ?? globalRegistry.get(inner)?.description;
  const base = { key, name, label: labelOf(key, schema, inner), required, ...(help ? { help } : {}) };
  const withDefault = <T>(type: string) => (typeof defaultValue === type ? { defaultValue: defaultValue as T } : {});

  switch (def.type) {
    case 'string': {
      const maxLength = bound(checks, 'max_length', 'maximum');
      const url = checks.some((c) => c.fn === isHttpsUrl) || checks.some((c) => c.format === 'url');
      const kind = url ? 'url' : maxLength !== undefined && maxLength > LONG_TEXT ? 'longtext' : 'text';
      return { ...base, kind, ...(maxLength !== undefined ? { maxLength } : {}), ...withDefault<string>('string') };
    }
    case 'number': {
      const min = bound(checks, 'greater_than', 'value');
      const max = bound(checks, 'less_than', 'value');
      return {
        ...base,
        kind: 'number',
        integer: checks.some((c) => c.format === 'safeint' || c.format === 'int32'),
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...withDefault<number>('number'),
      };
    }
    case 'boolean':
      return { ...base, kind: 'check', ...withDefault<boolean>('boolean') };
    case 'enum': {
      const options = Object.values(def.entries as Record<string, unknown>).filter(
        (v): v is string => typeof v === 'string',
      );
      return { ...base, kind: 'choice', options, ...withDefault<string>('string') };
    }
    case 'object':
      return { ...base, kind: 'group', fields: fieldsOfShape(def.shape as Record<string, z.ZodType>, name) };
    case 'array': {
      const element = unwrap(def.element as z.ZodType).inner;
      const min = bound(checks, 'min_length', 'minimum');
      const max = bound(checks, 'max_length', 'maximum');
      const limits = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
      const elementType = defOf(element).type;
      if (elementType === 'string') return { ...base, kind: 'lines', ...limits };
      if (elementType === 'object') {
        const item = fieldsOfShape(defOf(element).shape as Record<string, z.ZodType>, `${name}.#`);
        // A list whose items are themselves lists or JSON would not read back from flat fields.
        if (item.every((f) => f.kind !== 'list' && f.kind !== 'group' && f.kind !== 'json'))
          return { ...base, kind: 'list', item, ...limits };
      }
      return { ...base, kind: 'json' };
    }
    default:
      return { ...base, kind: 'json' };
  }
}

function fieldsOfShape(shape: Record<string, z.ZodType>, prefix: string): Field[] {
  return Object.entries(shape).map(([key, s]) => fieldOf(key, `${prefix}.${key}`, s));
}

/** The fields of a template's props; a schema that is not an object is one JSON box for all of them. */
export function fieldsOf(schema: z.ZodType): Field[] {
  const { inner } = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object') return fieldsOfShape(def.shape as Record<string, z.ZodType>, 'props');
  return [{ key: '', name: 'props', label: 'Props (JSON)', required: true, kind: 'json' }];
}

/** The name of field `f` in row `i` of a list. */
export const itemName = (f: Field, i: number) => f.name.replace('.#.', `.${i}.`);
