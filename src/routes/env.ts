import type { Context } from 'hono';
import type { Services } from '../services.js';

/** Typed context: services are set once per request by the app (or the Worker entry). */
export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
  };
}

export type AppContext = Context<AppEnv>;
