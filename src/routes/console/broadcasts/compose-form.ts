import type { Context } from 'hono';
import { type BroadcastInput, broadcastTemplate, validateProps } from '../../../core/broadcasts.js';
import { AppError, type FieldError } from '../../../core/errors.js';
import { fieldsOf } from '../../../pages/console/compose-fields.js';
import { formValues, readProps } from '../../../pages/console/compose-values.js';
import { readBody } from '../../http.js';
import { plainText, TopicSlug } from '../../schemas.js';

/**
 * The compose form posted back: the envelope (template, topic, subject, preheader) and the props read
 * through the fields generated from the template's schema. Problems come back as field errors named
 * like the inputs, for the page to show beside them; nothing here is a second copy of a template's
 * rules — the props are checked by core's validateProps, as the API checks them.
 */

export interface ComposeDraft {
  template: string;
  topic: string;
  subject: string;
  preheader: string;
  props: Record<string, unknown>;
  /** What each input showed, for a form shown again. */
  values: Record<string, string>;
}

interface ComposeReadBase {
  draft: ComposeDraft;
  data: Record<string, unknown>;
  /** The props as the template's schema returned them, when they pass it (whatever the envelope's state). */
  checkedProps: Record<string, unknown> | undefined;
}

export type ComposeRead =
  | (ComposeReadBase & { ok: true; input: BroadcastInput })
  | (ComposeReadBase & { ok: false; errors: FieldError[] });

const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? String(v.at(-1) ?? '') : '');

const subjectSchema = plainText(200).refine((v) => v.length > 0, 'Write a subject line');
const preheaderSchema = plainText(200);

export async function readComposeForm(c: Context): Promise<ComposeRead> {
  const { data } = await readBody(c, ['form']);
  const template = text(data.template);
  const def = broadcastTemplate(template); // an unknown template is a 422 of its own
  const fields = fieldsOf(def.schema);
  const { props, errors } = readProps(fields, data);
  // What could not be read at all (a number that is not one, broken JSON) is shown again as typed.
  const unread = Object.fromEntries(errors.map((e) => [e.path, text(data[e.path])]));

  const subject = subjectSchema.safeParse(text(data.subject));
  if (!subject.success) errors.push({ path: 'subject', message: subject.error.issues[0]!.message });
  const preheader = preheaderSchema.safeParse(text(data.preheader));
  if (!preheader.success) errors.push({ path: 'preheader', message: preheader.error.issues[0]!.message });
  const topic = TopicSlug.safeParse(text(data.topic));
  if (!topic.success) errors.push({ path: 'topic', message: 'Choose a topic' });

  let checked: Record<string, unknown> | undefined;
  try {
    const valid = validateProps(template, props);
    // A field that could not be read at all (left out of `props`) may have let a default through.
    if (!errors.some((e) => e.path.startsWith('props'))) checked = valid;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    for (const f of err.extra.fields ?? []) if (!errors.some((e) => e.path === f.path)) errors.push(f);
    if (!err.extra.fields?.length) errors.push({ path: 'props', message: err.message });
  }
  const draft: ComposeDraft = {
    template,
    topic: text(data.topic),
    subject: subject.success ? subject.data : text(data.subject),
    // Blank stays blank: the template then shows the opening of its text in the inbox.
    preheader: preheader.success ? preheader.data : text(data.preheader),
    props,
    values: { ...formValues(fields, props), ...unread },
  };
  if (errors.length || !checked) return { ok: false, errors, draft, data, checkedProps: checked };
  return {
    ok: true,
    input: { template, topic: draft.topic, subject: draft.subject, preheader: draft.preheader, props: checked },
    draft,
    data,
    checkedProps: checked,
  };
}

/** A saved broadcast as the compose form shows it. */
export function draftOf(b: {
  template: string;
  topic: string;
  subject: string;
  preheader: string;
  props: Record<string, unknown>;
}): ComposeDraft {
  const fields = fieldsOf(broadcastTemplate(b.template).schema);
  return { ...b, values: formValues(fields, b.props) };
}
