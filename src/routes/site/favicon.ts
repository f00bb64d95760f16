import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';

/** An open book on the accent colour, 32 px, PNG in an ICO container (what browsers ask /favicon.ico for). */
const FAVICON = Uint8Array.from(
  atob(
    'AAABAAEAICAAAAEAIACQAAAAFgAAAIlQTkcNChoKAAAADUlIRFIAAAAgAAAAIAgGAAAAc3p69AAAAFdJREFUeNpjYBjMQN5//39q4AGxlCzH0NpyvI6gl+U4HTGyHUBvyzEcgUsBIUCqulEHjDpg1AGjDhh1wKgDRh0w9BwwrFtFo43SwdcxGRRds0HROaU3AADZ6PmJT1iL0wAAAABJRU5ErkJggg==',
  ),
  (ch) => ch.charCodeAt(0),
);

/** Browsers ask every page's origin for /favicon.ico: an icon, not a 404 in every log. */
export function registerFavicon(app: OpenAPIHono<AppEnv>) {
  app.get('/favicon.ico', (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(FAVICON, 200, { 'Content-Type': 'image/x-icon' });
  });
}
