/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { signFormStamp } from '../core/tokens.js';
import { DevMailList, DevMailView } from '../pages/dev-mail.js';
import { LandingPage } from '../pages/landing.js';
import { SubscribedPage } from '../pages/subscriber-pages.js';
import { STYLESHEET } from '../pages/stylesheet.js';
import { AppError } from '../core/errors.js';
import type { AppEnv } from './env.js';

/** The thank-you page, the stylesheet, and — in development only — the demo site and captured mail. */
export function registerSiteRoutes(app: OpenAPIHono<AppEnv>) {
  app.get('/assets/quire.css', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });

  app.get('/subscribed', (c) => c.html(<SubscribedPage bookTitle={c.get('services').config.BOOK_TITLE} />));

  app.get('/', (c) => {
    const s = c.get('services');
    if (s.config.NODE_ENV === 'production') return c.json({ name: 'quire', docs: '/docs' });
    return c.html(
      <LandingPage
        bookTitle={s.config.BOOK_TITLE}
        action="/v1/subscriptions"
        consentText={s.config.CONSENT_TEXT}
        consentVersion={s.consentVersion}
        formStamp={signFormStamp(s.secret, s.now())}
        error={c.req.query('error')}
      />,
    );
  });

  const devMailbox = (c: { get: (k: 'services') => AppEnv['Variables']['services'] }) => {
    const s = c.get('services');
    if (s.config.NODE_ENV === 'production' || !s.devMailbox) throw new AppError('not_found', 'Not found.');
    return s.devMailbox;
  };

  app.get('/_dev/mail', async (c) => {
    const mails = await devMailbox(c).list();
    return c.html(<DevMailList bookTitle={c.get('services').config.BOOK_TITLE} mails={mails} />);
  });

  app.get('/_dev/mail/:id', async (c) => {
    const mail = await devMailbox(c).read(c.req.param('id'));
    if (!mail) throw new AppError('not_found', 'No such captured mail.');
    return c.html(
      <DevMailView
        bookTitle={c.get('services').config.BOOK_TITLE}
        subject={mail.subject}
        headers={mail.headers}
        html={mail.html}
        text={mail.text}
        rawUrl={`/_dev/mail/${encodeURIComponent(mail.id)}/raw`}
      />,
    );
  });

  app.get('/_dev/mail/:id/raw', async (c) => {
    const mail = await devMailbox(c).read(c.req.param('id'));
    if (!mail) throw new AppError('not_found', 'No such captured mail.');
    return c.body(mail.raw, 200, { 'Content-Type': 'message/rfc822' });
  });
}
