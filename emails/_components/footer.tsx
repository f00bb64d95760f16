import { Hr } from '@react-email/hr';
import { Link } from '@react-email/link';
import { Section } from '@react-email/section';
import { Text } from '@react-email/text';
import { Fragment } from 'react';
import { keyedBy } from './props.js';

export interface EmailFooterProps {
  postalAddress: string;
  reason: string;
  unsubscribeUrl?: string | undefined;
  preferencesUrl?: string | undefined;
}

// #52525b on white is ~7:1, so the "muted" footer still meets WCAG AA.
const muted = { margin: '0 0 8px', fontSize: '13px', lineHeight: '1.5', color: '#52525b' } as const;
const link = { color: '#52525b', textDecoration: 'underline' } as const;

export function EmailFooter({ postalAddress, reason, unsubscribeUrl, preferencesUrl }: EmailFooterProps) {
  return (
    <Section>
      <Hr style={{ borderColor: '#e4e4e7', margin: '32px 0 16px' }} />
      <Text style={muted}>{reason}</Text>
      {(preferencesUrl || unsubscribeUrl) && (
        <Text style={muted}>
          {preferencesUrl && (
            <Link href={preferencesUrl} style={link}>
              Manage preferences
            </Link>
          )}
          {preferencesUrl && unsubscribeUrl && ' · '}
          {unsubscribeUrl && (
            <Link href={unsubscribeUrl} style={link}>
              Unsubscribe
            </Link>
          )}
        </Text>
      )}
      <Text style={muted}>
        {/* <br/> rather than white-space:pre-line so the text part keeps the lines too */}
        {keyedBy(postalAddress.split('\n'), (line) => line).map(({ key, item: line }, i) => (
          <Fragment key={key}>
            {i > 0 && <br />}
            {line}
          </Fragment>
        ))}
      </Text>
    </Section>
  );
}
