import { Body } from '@react-email/body';
import { Container } from '@react-email/container';
import { Head } from '@react-email/head';
import { Html } from '@react-email/html';
import { Preview } from '@react-email/preview';
import type { ReactNode } from 'react';

export interface EmailLayoutProps {
  lang: string;
  preheader: string;
  children: ReactNode;
}

const body = {
  margin: 0,
  padding: '24px 0',
  backgroundColor: '#f4f4f5',
  color: '#18181b',
  fontFamily: '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
  fontSize: '16px',
  lineHeight: '1.5',
} as const;

const container = {
  maxWidth: '560px',
  margin: '0 auto',
  padding: '32px 24px',
  backgroundColor: '#ffffff',
  borderRadius: '6px',
} as const;

export function EmailLayout({ lang, preheader, children }: EmailLayoutProps) {
  return (
    <Html lang={lang}>
      <Head>
        {/* Without it, phone mail apps lay the message out as a desktop page and shrink it. */}
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </Head>
      <Preview>{preheader}</Preview>
      <Body style={body}>
        <Container style={container}>{children}</Container>
      </Body>
    </Html>
  );
}

// Shared by the templates so headings, paragraphs and buttons look alike.
export const styles = {
  heading: { margin: '0 0 16px', fontSize: '24px', lineHeight: '1.3', color: '#18181b' },
  text: { margin: '0 0 16px', fontSize: '16px', lineHeight: '1.5', color: '#18181b' },
  button: {
    display: 'inline-block',
    padding: '12px 20px',
    backgroundColor: '#1d4ed8',
    color: '#ffffff',
    borderRadius: '6px',
    fontWeight: 600,
    textDecoration: 'none',
  },
  link: { color: '#1d4ed8', textDecoration: 'underline', wordBreak: 'break-all' },
} as const;
