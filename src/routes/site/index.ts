import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerFavicon } from './favicon.js';
import { registerHome } from './home.js';
import { registerSignupScript } from './signup-script.js';
import { registerStylesheet } from './stylesheet.js';
import { registerSubscribePage } from './subscribe.js';
import { registerSubscribedPage } from './subscribed.js';

/** The assets (stylesheet, signup script, icon), the thank-you and signup pages, and the demo landing page. */
export function registerSiteRoutes(app: OpenAPIHono<AppEnv>) {
  registerStylesheet(app);
  registerFavicon(app);
  registerSignupScript(app);
  registerSubscribedPage(app);
  registerSubscribePage(app);
  registerHome(app);
}
