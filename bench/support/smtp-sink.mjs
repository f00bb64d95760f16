// A bare SMTP sink in its own process (so its CPU is not charged to the sender): accepts every
// message, counts it, and answers the parent's "count" requests over IPC.
import { SMTPServer } from 'smtp-server';

let count = 0;
let bytes = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  maxClients: 256,
  closeTimeout: 100,
  onData(stream, _session, callback) {
    stream.on('data', (c) => (bytes += c.length));
    stream.on('end', () => {
      count++;
      callback();
    });
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.server.address().port }));
process.on('message', (m) => {
  if (m === 'count') process.send({ type: 'count', count, bytes });
  if (m === 'reset') {
    count = 0;
    bytes = 0;
  }
  if (m === 'stop') server.close(() => process.exit(0));
});
