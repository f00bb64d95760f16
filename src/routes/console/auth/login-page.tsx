/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { getCookie, setCookie } from 'hono/cookie';
import { SignInPage } from '../../../pages/console/login.js';
import type { AppEnv } from '../../env.js';
import { consoleHeaders, sessionCookieOptions } from './guard.js';
import {
  issueLoginForm,
  LOGIN_COOKIE,
  LOGIN_FORM_TTL_SECONDS,
  readSession,
  SESSION_COOKIE,
  safeNext,
} from './session.js';

/** GET /admin/login: the sign-in form, with a fresh form token in its own cookie. */
export function registerLoginPage(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/login', (c) => {
    consoleHeaders(c);
    const s = c.get('services');
    const token = s.config.ADMIN_TOKEN;
    const next = safeNext(c.req.query('next'));
    if (token && readSession(s.secret, token, getCookie(c, SESSION_COOKIE), s.now())) return c.redirect(next, 303);
    let csrf: string | undefined;
    if (token) {
      const form = issueLoginForm(s.secret, token);
      setCookie(c, LOGIN_COOKIE, form.nonce, sessionCookieOptions(c, LOGIN_FORM_TTL_SECONDS, '/admin/login'));
      csrf = form.csrf;
    }
    const notice = c.req.query('signed_out') !== undefined ? 'You are signed out.' : undefined;
    return c.html(<SignInPage bookTitle={s.config.BOOK_TITLE} csrf={csrf} next={next} notice={notice} />);
  });
}
