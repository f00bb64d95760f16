import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerHome } from './home.js';
import { registerSignupScript } from './signup-script.js';
import { registerStylesheet } from './stylesheet.js';
import { registerSubscribePage } from './subscribe.js';
import { registerSubscribedPage } from './subscribed.js';

/** The two assets, the thank-you and signup pages, and the demo landing page. */
export function registerSiteRoutes(app: OpenAPIHono<AppEnv>) {
  registerStylesheet(app);
  registerSignupScript(app);
  registerSubscribedPage(app);
  registerSubscribePage(app);
  registerHome(app);
}
