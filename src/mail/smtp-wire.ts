/** A message as it goes after DATA (RFC 5321 §4.5.2). */

const CRLF_DOT_CRLF = Buffer.from('.\r\n');
const END_WITH_CRLF = Buffer.from('\r\n.\r\n');

/** The message with CRLF line ends and leading dots doubled (RFC 5321 §4.5.2), and its end-of-data. */
export function dataOf(message: Buffer): [Buffer, Buffer] {
  let clean = message[0] !== 0x2e;
  for (let i = message.indexOf(0x0a); clean && i >= 0; i = message.indexOf(0x0a, i + 1))
    if (message[i - 1] !== 0x0d || message[i + 1] === 0x2e) clean = false;
  for (let i = message.indexOf(0x0d); clean && i >= 0; i = message.indexOf(0x0d, i + 1))
    if (message[i + 1] !== 0x0a) clean = false;
  const body = clean
    ? message
    : Buffer.from(
        message
          .toString('latin1')
          .replace(/\r\n|\r|\n/g, '\r\n')
          .replace(/^\./, '..')
          .replace(/\r\n\./g, '\r\n..'),
        'latin1',
      );
  const endsWithCrlf = body.length >= 2 && body[body.length - 2] === 0x0d && body[body.length - 1] === 0x0a;
  return [body, endsWithCrlf ? CRLF_DOT_CRLF : END_WITH_CRLF];
}
