import { fromBase64 } from './bytes.js';

/*
 * Just enough X.509 (RFC 5280 §4.1) to take the public key out of a PEM certificate, for Web Crypto's
 * `importKey('spki', …)`: Workers have no X509Certificate without Node compatibility, and Web Crypto
 * reads keys, not certificates. The certificate comes from a host we already trust over HTTPS, so the
 * key is all we need from it; anything malformed is refused.
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
 *   TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
 *                                 subject, subjectPublicKeyInfo, … }
 */

interface Tlv {
  tag: number;
  /** Where the value starts and ends (exclusive). */
  start: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error('truncated DER');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 3 || start + bytes > der.length) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > der.length) throw new Error('truncated DER');
  return { tag, start, end };
}

const SEQUENCE = 0x30;
const VERSION = 0xa0;

/** The DER SubjectPublicKeyInfo of a DER certificate; throws on anything that is not one. */
export function spkiOfCertificate(der: Uint8Array): Uint8Array<ArrayBuffer> {
  const certificate = readTlv(der, 0);
  if (certificate.tag !== SEQUENCE || certificate.end !== der.length) throw new Error('not a certificate');
  const tbs = readTlv(der, certificate.start);
  if (tbs.tag !== SEQUENCE) throw new Error('not a certificate');
  let at = tbs.start;
  if (readTlv(der, at).tag === VERSION) at = readTlv(der, at).end;
  // serialNumber, signature, issuer, validity, subject
  for (let i = 0; i < 5; i++) at = readTlv(der, at).end;
  const spki = readTlv(der, at);
  if (spki.tag !== SEQUENCE || spki.end > tbs.end) throw new Error('no subjectPublicKeyInfo');
  return new Uint8Array(der.subarray(at, spki.end));
}

/** The DER bytes of the first certificate in a PEM text, or undefined. */
export function pemCertificateToDer(pem: string): Uint8Array<ArrayBuffer> | undefined {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  return m ? fromBase64(m[1]!) : undefined;
}
