import { z } from '@hono/zod-openapi';
import { errorResponse } from '../schemas.js';

/** What every admin route declares: the bearer token, and the 401 without it. */
export const adminSecurity = [{ bearer: [] }];
export const unauthorized = { 401: errorResponse('Missing or invalid admin token') };
/** What a route with an `{id}` answers to one that is not a UUID. */
export const invalidId = { 422: errorResponse('The id is not a UUID') };

export const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });
