/** The DSN schemes quire knows, and what every scheme's host may be. */

interface SchemeInfo {
  /** Query parameters beyond the common ones. */
  params: readonly string[];
  /** Its host is a relay or a binding name, fit for logs; an API DSN's host place may hold a stray key. */
  showsHost: boolean;
}

export const SCHEMES: Record<string, SchemeInfo> = {
  smtp: { params: ['tls_reject_unauthorized'], showsHost: true },
  smtps: { params: ['tls_reject_unauthorized'], showsHost: true },
  'resend+api': { params: [], showsHost: false },
  'postmark+api': { params: ['message_stream'], showsHost: false },
  'ses+api': { params: ['region'], showsHost: false },
  'mailgun+api': { params: ['region'], showsHost: false },
  'sendgrid+api': { params: [], showsHost: false },
  'cloudflare+email': { params: [], showsHost: true },
};

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Loopback (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3, RFC 6761 §6.3): a local stand-in, reached over http. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || LOOPBACK_V4.test(h);
}

export function unknownSchemeProblem(scheme: string): string {
  const known = Object.keys(SCHEMES);
  const base = scheme.split('+')[0]!;
  const near = known.find((k) => k.split('+')[0] === base);
  const hint = near ? `; did you mean ${near}://?` : '';
  return `unknown scheme "${scheme}" (known: ${known.join(', ')})${hint}`;
}
