/**
 * What every broadcast template receives besides the author's props. The recipient values are the only
 * per-recipient parts of a broadcast: the engine renders each broadcast ONCE with placeholders in these
 * slots and substitutes the real values per recipient (see src/mail/personalise.ts), so a template must
 * use them only as plain text (`greeting`) or as an href (`unsubscribeUrl`, `preferencesUrl`), never
 * branch on them or transform them.
 */
export interface RecipientSlots {
  /** "Hi Ada," or "Hi," — already decided from the subscriber's name. */
  greeting: string;
  unsubscribeUrl: string;
  preferencesUrl: string;
}

export interface BroadcastContext {
  recipient: RecipientSlots;
  /** Inbox preview line (the broadcast's preheader). */
  preheader: string;
  lang: string;
  bookTitle: string;
  postalAddress: string;
}

/**
 * The greeting slot's value for a subscriber name: the first name only ("Hi Ève," for "Ève Müller"), as a
 * letter would open; whitespace collapsed, as HTML-to-text would.
 */
export const greetingFor = (name: string | null | undefined): string => {
  const first = (name ?? '').trim().split(/\s+/)[0] ?? '';
  return first ? `Hi ${first},` : 'Hi,';
};

export const previewContext: BroadcastContext = {
  recipient: {
    greeting: 'Hi Ada,',
    unsubscribeUrl: 'https://news.example.com/unsubscribe/preview-token',
    preferencesUrl: 'https://news.example.com/preferences/preview-token',
  },
  preheader: 'The book is out today.',
  lang: 'en',
  bookTitle: 'How Teams Think Before They Build',
  postalAddress: 'Jane Author, 1 Example Street, Springfield',
};
