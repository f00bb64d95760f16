import type { CoreDeps } from './deps.js';
import { AppError } from './errors.js';
import { type LinkPurpose, signLinkToken, verifyLinkToken } from './tokens.js';

/** Absolute URLs for the links in an email; every one carries a signed, purpose-bound token. */
export function subscriberLinks(deps: Pick<CoreDeps, 'config' | 'secret'>, subscriberId: string, issuedAt: Date) {
  const base = deps.config.PUBLIC_URL;
  const unsubscribeToken = signLinkToken(deps.secret, 'unsubscribe', subscriberId, issuedAt);
  const preferencesToken = signLinkToken(deps.secret, 'preferences', subscriberId, issuedAt);
  return {
    unsubscribeToken,
    unsubscribeUrl: `${base}/unsubscribe/${unsubscribeToken}`,
    preferencesUrl: `${base}/preferences/${preferencesToken}`,
  };
}

export const confirmUrlFor = (deps: Pick<CoreDeps, 'config'>, token: string) =>
  `${deps.config.PUBLIC_URL}/confirm/${token}`;

/** The subscriber a link token names, or the 404/410 the link deserves. */
export function subscriberIdFromLink(
  deps: Pick<CoreDeps, 'secret' | 'now'>,
  purpose: LinkPurpose,
  token: string,
): string {
  const check = verifyLinkToken(deps.secret, purpose, token, deps.now());
  if (check.ok) return check.subscriberId;
  if (check.reason === 'expired')
    throw new AppError('token_expired', 'This link has expired. Please use the link in a more recent email.');
  throw new AppError('invalid_token', 'This link is not valid.');
}
