import { subscriberIdFromLink } from '../../../core/links.js';
import type { AppContext } from '../../env.js';

/** The subscriber a preferences link names; an invalid or expired link throws. */
export const subscriberOf = (c: AppContext, token: string) =>
  subscriberIdFromLink(c.get('services'), 'preferences', token);

export const preferencesPath = (token: string) => `/preferences/${encodeURIComponent(token)}`;
