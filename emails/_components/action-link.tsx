import { Button } from '@react-email/button';
import { Link } from '@react-email/link';
import { Text } from '@react-email/text';
import { styles } from './layout.js';

/** One call to action: a button, and the raw link for clients that do not show buttons. */
export function ActionLink({ href, label }: { href: string; label: string }) {
  return (
    <>
      <Button href={href} style={styles.button}>
        {label}
      </Button>
      {/* The text part already prints the URL after the button label. */}
      <Text style={{ ...styles.text, marginTop: '24px' }} data-skip-in-text="true">
        Or paste this link into your browser:
        <br />
        <Link href={href} style={styles.link}>
          {href}
        </Link>
      </Text>
    </>
  );
}
