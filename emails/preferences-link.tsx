import { Heading } from '@react-email/heading';
import { Text } from '@react-email/text';
import { z } from 'zod';
import { ActionLink } from './_components/action-link.js';
import { EmailFooter } from './_components/footer.js';
import { EmailLayout, styles } from './_components/layout.js';

export const PreferencesLinkProps = z.object({
  bookTitle: z.string(),
  preferencesUrl: z.string().url(),
  /** How long the link works, in days. */
  validForDays: z.number().int().positive(),
  postalAddress: z.string(),
  lang: z.string().default('en'),
});
export type PreferencesLinkProps = z.input<typeof PreferencesLinkProps>;

// Sent only because someone asked for it on the "manage my subscription" page: no promotion, and no
// List-Unsubscribe (the page behind the link is where unsubscribing happens).
export function PreferencesLink({
  bookTitle,
  preferencesUrl,
  validForDays,
  postalAddress,
  lang = 'en',
}: PreferencesLinkProps) {
  return (
    <EmailLayout lang={lang} preheader={`Your link to manage your subscription to ${bookTitle}.`}>
      <Heading as="h1" style={styles.heading}>
        Your preferences link
      </Heading>
      <Text style={styles.text}>
        Someone (hopefully you) asked for a link to manage the emails you get about <em>{bookTitle}</em>. Here it is:
      </Text>
      <ActionLink href={preferencesUrl} label="Manage my subscription" />
      <Text style={styles.text}>
        There you can choose topics, unsubscribe, or download or delete your data. The link works for {validForDays}{' '}
        days. If you didn&apos;t ask for it, ignore this email — nothing changes unless the link is used.
      </Text>
      <EmailFooter
        postalAddress={postalAddress}
        reason={`You received this because this address was entered on the "manage my subscription" page for ${bookTitle}.`}
      />
    </EmailLayout>
  );
}

PreferencesLink.PreviewProps = {
  bookTitle: 'How Teams Think Before They Build',
  preferencesUrl: 'https://example.com/preferences/AQKk0example-token',
  validForDays: 180,
  postalAddress: 'Quire Press, 123 Example Street, Springfield, IL 62701, USA',
} satisfies PreferencesLinkProps;

export default PreferencesLink;
