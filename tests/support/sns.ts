import { execFileSync } from 'node:child_process';
import { createPrivateKey, createSign, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fetcher } from '../../src/mail/events/sns.js';

/*
 * Amazon SNS as the SES webhook meets it, on this machine: a self-signed RSA certificate standing in for
 * SNS's signing certificate, messages signed with its key the way SNS signs them, and a local HTTP server
 * serving the certificate and answering SubscribeURL visits. The webhook is given a fetcher that maps the
 * real-looking `https://sns.<region>.amazonaws.com/…` URLs onto that server, so the host check in the code
 * under test still sees (and judges) the URL as the message names it.
 *
 * node:crypto makes keys but not X.509 certificates; the `openssl` command (Debian's openssl package, on
 * every machine here) makes the certificate.
 */

export interface SnsSigner {
  certificatePem: string;
  key: KeyObject;
}

export function makeSnsSigner(): SnsSigner {
  const dir = mkdtempSync(join(tmpdir(), 'quire-sns-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '3650',
        '-subj',
        '/CN=sns.amazonaws.com',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return {
      certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: createPrivateKey(readFileSync(join(dir, 'key.pem'))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const SNS_CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';

export interface SnsStandIn {
  /** The fetcher the webhook gets: SNS URLs go to the local server; every URL asked for is recorded. */
  fetch: Fetcher;
  /** Every URL the webhook fetched, as it named them. */
  fetched: string[];
  /** SubscribeURLs visited (query strings included). */
  confirmations: string[];
  close(): Promise<void>;
}

export async function startSnsStandIn(signer: SnsSigner): Promise<SnsStandIn> {
  const confirmations: string[] = [];
  const fetched: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'GET' && url.pathname.endsWith('.pem') && url.pathname.includes('SimpleNotificationService')) {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(signer.certificatePem);
    } else if (req.method === 'GET' && url.searchParams.get('Action') === 'ConfirmSubscription') {
      confirmations.push(`${url.pathname}${url.search}`);
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          '<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>',
        );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fetch: Fetcher = (url, init) => {
    fetched.push(url);
    const u = new URL(url);
    // Only what looks like SNS is served; anything else would be a real network call, which a test must never make.
    if (!/^sns\.[a-z0-9-]+\.amazonaws\.com$/.test(u.hostname))
      return Promise.reject(new Error(`test fetcher refused ${u.hostname}`));
    return globalThis.fetch(`http://127.0.0.1:${port}${u.pathname}${u.search}`, init);
  };
  return { fetch, fetched, confirmations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

type Fields = Record<string, string>;

/** The string SNS signs, written out here from the docs rather than taken from the code under test. */
function stringToSign(m: Fields): string {
  const keys =
    m.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .filter((k) => m[k] !== undefined)
    .map((k) => `${k}\n${m[k]}\n`)
    .join('');
}

/** An SNS message as SNS posts it: the fields, then SignatureVersion, Signature and SigningCertURL. */
export function signSns(
  signer: SnsSigner,
  fields: Fields,
  opts: { version?: '1' | '2'; certUrl?: string } = {},
): Fields {
  const version = opts.version ?? '2';
  const signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
    .update(stringToSign(fields))
    .sign(signer.key, 'base64');
  return { ...fields, SignatureVersion: version, Signature: signature, SigningCertURL: opts.certUrl ?? SNS_CERT_URL };
}

/** A Notification carrying `message` (an SES event), published at `at`. */
export const snsNotification = (
  topicArn: string,
  message: unknown,
  at: Date,
  messageId: string = randomUUID(),
): Fields => ({
  Type: 'Notification',
  MessageId: messageId,
  TopicArn: topicArn,
  Message: JSON.stringify(message),
  Timestamp: at.toISOString(),
  UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${randomUUID()}`,
});

export const snsSubscriptionConfirmation = (topicArn: string, at: Date): Fields => {
  const token = randomUUID().replace(/-/g, '').repeat(4);
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: randomUUID(),
    Token: token,
    TopicArn: topicArn,
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
    Timestamp: at.toISOString(),
  };
};
