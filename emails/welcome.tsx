import { Heading } from '@react-email/heading';
import { Link } from '@react-email/link';
import { Text } from '@react-email/text';
import { z } from 'zod';
import { greetingFor } from './_components/broadcast-context.js';
import { EmailFooter } from './_components/footer.js';
import { EmailLayout, styles } from './_components/layout.js';

export const WelcomeProps = z.object({
  bookTitle: z.string(),
  name: z.string().optional(),
  /** Human-readable topic names, e.g. "New chapters". */
  topics: z.array(z.string()),
  preferencesUrl: z.string().url(),
  unsubscribeUrl: z.string().url(),
  postalAddress: z.string(),
  lang: z.string().default('en'),
});
export type WelcomeProps = z.input<typeof WelcomeProps>;

export function Welcome({
  bookTitle,
  name,
  topics,
  preferencesUrl,
  unsubscribeUrl,
  postalAddress,
  lang = 'en',
}: WelcomeProps) {
  const greeting = greetingFor(name);
  return (
    <EmailLayout lang={lang} preheader={`You're subscribed to updates about ${bookTitle}.`}>
      <Heading as="h1" style={styles.heading}>
        You&apos;re on the list
      </Heading>
      <Text style={styles.text}>{greeting}</Text>
      <Text style={styles.text}>
        Thanks for confirming. You&apos;re now subscribed to updates about <em>{bookTitle}</em>.
      </Text>
      {topics.length > 0 ? (
        <>
          <Text style={{ ...styles.text, marginBottom: '8px' }}>You&apos;ll hear about:</Text>
          <ul style={{ ...styles.text, paddingLeft: '24px' }}>
            {topics.map((topic) => (
              <li key={topic}>{topic}</li>
            ))}
          </ul>
        </>
      ) : null}
      <Text style={styles.text}>
        We&apos;ll only contact you about this book and related updates — no spam, no unrelated marketing.
      </Text>
      <Text style={styles.text}>
        You can change what you get at any time on your{' '}
        <Link href={preferencesUrl} style={styles.link}>
          preferences page
        </Link>
        .
      </Text>
      <EmailFooter
        postalAddress={postalAddress}
        reason={`You're receiving this because you confirmed your subscription to updates about ${bookTitle}.`}
        preferencesUrl={preferencesUrl}
        unsubscribeUrl={unsubscribeUrl}
      />
    </EmailLayout>
  );
}

Welcome.PreviewProps = {
  bookTitle: 'How Teams Think Before They Build',
  name: 'Ada',
  topics: ['New chapters', 'Talks and events'],
  preferencesUrl: 'https://example.com/preferences?token=abc123&src=welcome',
  unsubscribeUrl: 'https://example.com/unsubscribe?token=abc123&src=welcome',
  postalAddress: 'Quire Press, 123 Example Street, Springfield, IL 62701, USA',
} satisfies WelcomeProps;

export default Welcome;
