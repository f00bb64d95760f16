/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { subscriberIdFromLink } from '../../core/links.js';
import { eraseSubscriber, getPreferences, updatePreferences } from '../../core/preferences.js';
import { resubscribe } from '../../core/unsubscribe.js';
import { MessagePage } from '../../pages/layout.js';
import { EraseConfirmPage, preferenceNotices, PreferencesPage, type PreferenceNotice } from '../../pages/preferences.js';
import type { AppEnv } from '../env.js';
import { fieldsOf, readBody, requestMeta } from '../http.js';
import { plainText, TopicSlug } from '../schemas.js';

const PreferencesForm = z.object({
  intent: z.enum(['save', 'unsubscribe_all', 'resubscribe', 'erase_request', 'erase']).default('save'),
  topics: z.preprocess((v) => (v === undefined ? [] : typeof v === 'string' ? [v] : v), z.array(TopicSlug).max(50)),
  name: plainText(200).optional(),
  confirm: z.string().optional(),
});

const isNotice = (v: string | undefined): v is PreferenceNotice => v !== undefined && Object.hasOwn(preferenceNotices, v);

/**
 * The HTML preference centre. Its POST is same-origin only (Origin / Sec-Fetch-Site checked), and a
 * change answers 303 back to the page (`?saved=`), so reloading shows the saved state instead of
 * posting the form again.
 */
export function registerPreferencesPageRoutes(app: OpenAPIHono<AppEnv>) {
  app.use('/preferences/:token', async (c, next) => {
    const origin = new URL(c.get('services').config.PUBLIC_URL).origin;
    return csrf({ origin })(c, next);
  });

  const pathFor = (token: string) => `/preferences/${encodeURIComponent(token)}`;

  app.get('/preferences/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const id = subscriberIdFromLink(services, 'preferences', token);
    const prefs = await getPreferences(services, id);
    const saved = c.req.query('saved');
    c.header('Cache-Control', 'no-store');
    return c.html(
      <PreferencesPage
        bookTitle={services.config.BOOK_TITLE}
        prefs={prefs}
        action={pathFor(token)}
        exportUrl={`/v1${pathFor(token)}/export`}
        notice={isNotice(saved) ? saved : undefined}
      />,
    );
  });

  app.post('/preferences/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const id = subscriberIdFromLink(services, 'preferences', token);
    const { data } = await readBody(c, ['form']);
    const parsed = PreferencesForm.safeParse(data);
    if (!parsed.success) throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(parsed.error) });
    const form = parsed.data;
    const bookTitle = services.config.BOOK_TITLE;
    const back = (notice: PreferenceNotice) => c.redirect(`${pathFor(token)}?saved=${notice}`, 303);
    switch (form.intent) {
      case 'erase_request':
        // Loading the subscriber first: an erased one gets "link not valid", not a second erase prompt.
        await getPreferences(services, id);
        return c.html(<EraseConfirmPage bookTitle={bookTitle} action={pathFor(token)} cancelUrl={pathFor(token)} />);
      case 'erase':
        if (form.confirm !== 'true') throw new AppError('confirmation_required', 'Please confirm that you want your data deleted.');
        await eraseSubscriber(services, id, requestMeta(c));
        return c.html(
          <MessagePage bookTitle={bookTitle} title="Your data is deleted" message="We no longer hold your address or name. You won't hear from us again." />,
        );
      case 'unsubscribe_all':
        await updatePreferences(services, id, { unsubscribeAll: true }, requestMeta(c));
        return back('unsubscribed');
      case 'resubscribe': {
        await resubscribe(services, id, requestMeta(c), 'preferences');
        const { status } = await getPreferences(services, id);
        return back(status === 'active' ? 'resubscribed' : 'unchanged');
      }
      case 'save':
        await updatePreferences(services, id, { topics: form.topics, name: form.name === undefined ? undefined : form.name || null }, requestMeta(c));
        return back('saved');
    }
  });
}
