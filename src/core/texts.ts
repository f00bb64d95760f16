/**
 * What quire says to readers, in one catalogue: pages, the signup script, JSON errors and mail all
 * take their wording from here. The first four are the book site's own words (DESIGN.md).
 */
export const TEXTS = {
  subscribedTitle: "You're on the list",
  subscribedBody:
    "Your email has been saved. We'll only contact you about this book and related updates — no spam, no unrelated marketing.",
  checkInbox: 'Check your inbox for a link to confirm your subscription.',
  invalidEmail: "That doesn't look like a valid email. Please check and try again.",
  /** Also what any 5xx says, so nothing internal ever reaches a client. */
  serverFault: 'Something went wrong on our side. Please try again in a few minutes.',
  consentRequired: 'Please tick the box to agree to be contacted about this book.',
} as const;
