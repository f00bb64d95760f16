/**
 * What quire says to readers, in one catalogue: pages, the signup script, JSON errors and mail all
 * take their wording from here. The first four are the book site's own words (DESIGN.md).
 */
export const TEXTS = {
  subscribedTitle: "You're on the list",
  subscribedBody:
    "Your email has been saved. We'll only contact you about this book and related updates — no spam, no unrelated marketing.",
  checkInbox: 'Check your inbox for a link to confirm your subscription.',
  /** After a signup, before the confirmation: double opt-in means nobody is on the list yet. */
  signupAcceptedTitle: 'Almost there: check your inbox',
  signupAcceptedBody:
    "We've sent you an email with a link to confirm your subscription. You're on the list once you click it. We'll only contact you about this book and related updates — no spam, no unrelated marketing.",
  nothingArrived: 'Nothing arrived after a few minutes? Look in your spam folder, or',
  newConfirmationLink: 'get a new confirmation link',
  tooFastTitle: 'Please press the button again',
  tooFastBody:
    'Your browser sent the form the moment the page opened, quicker than we accept from people. Check your details and press the button again.',
  invalidEmail: "That doesn't look like a valid email. Please check and try again.",
  /** Also what any 5xx says, so nothing internal ever reaches a client. */
  serverFault: 'Something went wrong on our side. Please try again in a few minutes.',
  consentRequired: 'Please tick the box to agree to be contacted about this book.',
  preferencesSavedNothing:
    "Saved. No topic is ticked, so we won't send you anything. To leave the list altogether, unsubscribe from everything below.",
  eraseKeepSubscription: 'No, keep my subscription',
  eraseGoBack: 'No, go back',
  testCopyTitle: 'This was a test copy',
  testCopyBody:
    'The email you opened this from was a test copy of a broadcast, sent to no subscriber, so its unsubscribe and preferences links change nothing. In the real broadcast, each reader’s links lead to their own pages.',
} as const;
