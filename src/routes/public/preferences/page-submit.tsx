/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { AppError } from '../../../core/errors.js';
import { eraseSubscriber, getPreferences, updatePreferences } from '../../../core/preferences.js';
import { resubscribe } from '../../../core/unsubscribe.js';
import { MessagePage } from '../../../pages/layout.js';
import { EraseConfirmPage, type PreferenceNotice } from '../../../pages/preferences.js';
import { openapiForm, readForm } from '../../body.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { formBody, htmlResponse, LinkTokenParam, pageError } from '../../schemas.js';
import { preferencesPath, subscriberOf } from './link.js';
import { PreferencesForm } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/preferences/{token}',
  operationId: 'submitPreferencesPage',
  tags: ['Pages'],
  summary: 'The preference centre’s form: save, unsubscribe, resubscribe, or erase (same-origin posts only).',
  security: [],
  request: { params: LinkTokenParam, body: formBody(PreferencesForm) },
  responses: {
    200: htmlResponse('The erase confirmation page, or the page saying the data is deleted'),
    303: { description: 'Saved: back to the preference centre with `?saved=`' },
    400: pageError('A form body that cannot be read'),
    403: pageError('A post from another site'),
    404: pageError('A link that does not work, or an erased subscriber'),
    410: pageError('An expired link'),
    415: pageError('Not a form post'),
    422: pageError('Fields that are not valid, or an erase without its confirmation'),
  },
});

/**
 * The preference centre's form. Same-origin only (Origin / Sec-Fetch-Site checked), and a change
 * answers 303 back to the page (`?saved=`), so reloading shows the saved state instead of posting the
 * form again.
 */
export function registerPreferencesPageSubmit(app: OpenAPIHono<AppEnv>) {
  app.use('/preferences/:token', async (c, next) => {
    const origin = new URL(c.get('services').config.PUBLIC_URL).origin;
    return csrf({ origin })(c, next);
  });

  openapiForm(app, route, async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    // The link first: a stale link is "not valid" whatever the form says.
    const id = subscriberOf(c, token);
    const form = await readForm(c, PreferencesForm);
    const bookTitle = services.config.BOOK_TITLE;
    const back = (notice: PreferenceNotice) => c.redirect(`${preferencesPath(token)}?saved=${notice}`, 303);
    switch (form.intent) {
      case 'erase_request': {
        // Loading the subscriber first: an erased one gets "link not valid", not a second erase prompt.
        const { status } = await getPreferences(services, id);
        return c.html(
          <EraseConfirmPage
            bookTitle={bookTitle}
            action={preferencesPath(token)}
            cancelUrl={preferencesPath(token)}
            subscribed={status === 'active' || status === 'pending'}
          />,
        );
      }
      case 'erase':
        if (form.confirm !== 'true')
          throw new AppError('confirmation_required', 'Please confirm that you want your data deleted.');
        await eraseSubscriber(services, id, requestMeta(c));
        return c.html(
          <MessagePage
            bookTitle={bookTitle}
            title="Your data is deleted"
            message="We no longer hold your address or name. You won't hear from us again."
          />,
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
        await updatePreferences(
          services,
          id,
          { topics: form.topics, name: form.name === undefined ? undefined : form.name || null },
          requestMeta(c),
        );
        // Nothing ticked sends nothing: said plainly, with the way to leave for good beside it.
        return back(form.topics.length === 0 ? 'saved_nothing' : 'saved');
    }
  });
}
