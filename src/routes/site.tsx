/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../core/errors.js';
import { signFormStamp } from '../core/tokens.js';
import type { CaptureMailbox } from '../mail/capture.js';
import { DevMailList, DevMailView } from '../pages/dev-mail.js';
import { LandingPage, SubscribePage } from '../pages/landing.js';
import { SIGNUP_SCRIPT } from '../pages/signup-script.js';
import { STYLESHEET } from '../pages/stylesheet.js';
import { SubscribedPage } from '../pages/subscriber-pages.js';
import { EMAIL_CSP, setCsp, SIGNUP_PAGE_CSP } from './csp.js';
import type { AppContext, AppEnv } from './env.js';

/** The thank-you page and the two assets; in development only, the demo site and the captured mail. */
export function registerSiteRoutes(app: OpenAPIHono<AppEnv>) {
  app.get('/assets/quire.css', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });

  app.get('/assets/signup.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    // Authors' sites load it from here, so it may be fetched cross-origin (it is public and static).
    c.header('Cross-Origin-Resource-Policy', 'cross-origin');
    return c.body(SIGNUP_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });

  app.get('/subscribed', (c) => c.html(<SubscribedPage bookTitle={c.get('services').config.BOOK_TITLE} />));

  app.get('/subscribe', (c) => {
    setCsp(c, SIGNUP_PAGE_CSP);
    return c.html(<SubscribePage {...signupFormProps(c, 'quire-signup-page')} />);
  });

  app.get('/', (c) => {
    if (c.get('services').config.NODE_ENV === 'production') return c.json({ name: 'quire', docs: '/docs' });
    setCsp(c, SIGNUP_PAGE_CSP);
    return c.html(<LandingPage {...signupFormProps(c, 'demo')} />);
  });

  app.get('/_dev/mail', async (c) => {
    const mails = await devMailbox(c).list();
    return c.html(<DevMailList bookTitle={c.get('services').config.BOOK_TITLE} mails={mails} />);
  });

  app.get('/_dev/mail/:id', async (c) => {
    const mail = await capturedMail(c);
    const base = `/_dev/mail/${encodeURIComponent(mail.id)}`;
    return c.html(
      <DevMailView
        bookTitle={c.get('services').config.BOOK_TITLE}
        subject={mail.subject}
        to={mail.to}
        headers={mail.headers}
        htmlUrl={`${base}/html`}
        text={mail.text}
        rawUrl={`${base}/raw`}
      />,
    );
  });

  // The HTML part on its own, for the sandboxed iframe: its inline styles allowed, no script, and
  // links that open in the whole tab (our pages refuse to be framed).
  app.get('/_dev/mail/:id/html', async (c) => {
    const mail = await capturedMail(c);
    setCsp(c, EMAIL_CSP);
    return c.html(linksOpenInTop(mail.html));
  });

  app.get('/_dev/mail/:id/raw', async (c) => {
    const mail = await capturedMail(c);
    return c.body(mail.raw, 200, { 'Content-Type': 'message/rfc822' });
  });
}

/** The signup form as quire renders it: current consent text and version, a fresh signed stamp. */
function signupFormProps(c: AppContext, source: string) {
  const s = c.get('services');
  return {
    bookTitle: s.config.BOOK_TITLE,
    action: '/v1/subscriptions',
    consentText: s.config.CONSENT_TEXT,
    consentVersion: s.consentVersion,
    formStamp: signFormStamp(s.secret, s.now()),
    error: c.req.query('error'),
    source,
  };
}

function devMailbox(c: AppContext): CaptureMailbox {
  const s = c.get('services');
  if (s.config.NODE_ENV === 'production' || !s.devMailbox) throw new AppError('not_found', 'Not found.');
  return s.devMailbox;
}

async function capturedMail(c: AppContext) {
  const mail = await devMailbox(c).read(c.req.param('id') ?? '');
  if (!mail) throw new AppError('not_found', 'No such captured mail.');
  return mail;
}

function linksOpenInTop(html: string): string {
  const base = '<base target="_top">';
  return /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => `${m}${base}`) : `${base}${html}`;
}
