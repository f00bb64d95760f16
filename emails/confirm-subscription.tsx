import { Heading } from '@react-email/heading';
import { Text } from '@react-email/text';
import { z } from 'zod';
import { ActionLink } from './_components/action-link.js';
import { EmailFooter } from './_components/footer.js';
import { EmailLayout, styles } from './_components/layout.js';

export const ConfirmSubscriptionProps = z.object({
  bookTitle: z.string(),
  confirmUrl: z.string().url(),
  expiresInHours: z.number().int().positive(),
  postalAddress: z.string(),
  lang: z.string().default('en'),
});
export type ConfirmSubscriptionProps = z.input<typeof ConfirmSubscriptionProps>;

// Double opt-in: deliberately no promotional content and no unsubscribe link,
// because the recipient is not subscribed (yet).
export function ConfirmSubscription({
  bookTitle,
  confirmUrl,
  expiresInHours,
  postalAddress,
  lang = 'en',
}: ConfirmSubscriptionProps) {
  return (
    <EmailLayout lang={lang} preheader={`One click to confirm you want updates about ${bookTitle}.`}>
      <Heading as="h1" style={styles.heading}>
        Confirm your subscription
      </Heading>
      <Text style={styles.text}>
        Someone (hopefully you) asked to get emails about <em>{bookTitle}</em>. Please confirm that this was you:
      </Text>
      <ActionLink href={confirmUrl} label="Confirm my subscription" />
      <Text style={styles.text}>
        {`This link expires in ${expiresInHours} ${expiresInHours === 1 ? 'hour' : 'hours'}.`} If you didn&apos;t ask
        for this, ignore this email — you won&apos;t hear from us again.
      </Text>
      <EmailFooter
        postalAddress={postalAddress}
        reason={`You received this because this address was entered on the signup form for ${bookTitle}.`}
      />
    </EmailLayout>
  );
}

ConfirmSubscription.PreviewProps = {
  bookTitle: 'How Teams Think Before They Build',
  confirmUrl: 'https://example.com/confirm?token=abc123&list=book',
  expiresInHours: 48,
  postalAddress: 'Quire Press, 123 Example Street, Springfield, IL 62701, USA',
} satisfies ConfirmSubscriptionProps;

export default ConfirmSubscription;
