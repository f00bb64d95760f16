/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { subscriberIdFromLink } from '../../core/links.js';
import { eraseSubscriber, getPreferences, updatePreferences } from '../../core/preferences.js';
import { MessagePage } from '../../pages/layout.js';
import { EraseConfirmPage, PreferencesPage } from '../../pages/preferences.js';
import type { AppContext, AppEnv } from '../env.js';
import { fieldsOf, readBody, requestMeta } from '../http.js';
import { plainText, TopicSlug } from '../schemas.js';

const PreferencesForm = z.object({
  intent: z.enum(['save', 'unsubscribe_all', 'erase_request', 'erase']).default('save'),
  topics: z.preprocess((v) => (v === undefined ? [] : typeof v === 'string' ? [v] : v), z.array(TopicSlug).max(50)),
  name: plainText(200).optional(),
  confirm: z.string().optional(),
});

/** The HTML preference centre. Its POST is same-origin only (Origin / Sec-Fetch-Site checked). */
export function registerPreferencesPageRoutes(app: OpenAPIHono<AppEnv>) {
  app.use('/preferences/:token', async (c, next) => {
    const origin = new URL(c.get('services').config.PUBLIC_URL).origin;
    return csrf({ origin })(c, next);
  });

  const render = async (c: AppContext, token: string, saved = false) => {
    const services = c.get('services');
    const id = subscriberIdFromLink(services, 'preferences', token);
    const prefs = await getPreferences(services, id);
    const path = `/preferences/${encodeURIComponent(token)}`;
    return c.html(
      <PreferencesPage bookTitle={services.config.BOOK_TITLE} prefs={prefs} action={path} exportUrl={`/v1${path}/export`} saved={saved} />,
    );
  };

  app.get('/preferences/:token', (c) => render(c, c.req.param('token')));

  app.post('/preferences/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const id = subscriberIdFromLink(services, 'preferences', token);
    const { data } = await readBody(c, ['form']);
    const parsed = PreferencesForm.safeParse(data);
    if (!parsed.success) throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(parsed.error) });
    const form = parsed.data;
    const bookTitle = services.config.BOOK_TITLE;
    switch (form.intent) {
      case 'erase_request':
        return c.html(<EraseConfirmPage bookTitle={bookTitle} action={`/preferences/${encodeURIComponent(token)}`} />);
      case 'erase':
        if (form.confirm !== 'true') throw new AppError('confirmation_required', 'Please confirm that you want your data deleted.');
        await eraseSubscriber(services, id, requestMeta(c));
        return c.html(<MessagePage bookTitle={bookTitle} title="Your data is deleted" message="We no longer hold your address or name. You won't hear from us again." />);
      case 'unsubscribe_all':
        await updatePreferences(services, id, { unsubscribeAll: true }, requestMeta(c));
        return render(c, token, true);
      case 'save':
        await updatePreferences(services, id, { topics: form.topics, name: form.name === undefined ? undefined : form.name || null }, requestMeta(c));
        return render(c, token, true);
    }
  });
}
