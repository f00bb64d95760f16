// An SMTP sink in its own process (its CPU is not charged to quire, and it outlives a killed worker).
// It counts every accepted message by Message-ID, in arrival order, and can be stopped hard (listener
// closed, every open connection destroyed, like a relay that dies) and started again on the same port.
// Messages to a watched domain are parsed and forwarded to the parent (confirmation links and the like).
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const log = []; // Message-IDs in arrival order
let bytes = 0;
let server;
let port = Number(process.argv[2] || 0);
let watchDomain = process.argv[3] || '';

function messageIdOf(raw) {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const m = /^message-id:[ \t]*(?:\r\n[ \t]+)?(<[^>\r\n]+>)/im.exec(head);
  return m ? m[1] : '(none)';
}

function listen() {
  const connections = new Set();
  const s = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 512,
    closeTimeout: 50,
    size: 1024 * 1024,
    onConnect(_session, callback) {
      callback();
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        // Counted and answered in the same tick: a hard stop can never count a message whose 250 the
        // client did not get (a real relay can, which is why SMTP itself cannot promise exactly-once).
        const to = session.envelope.rcptTo.map((r) => r.address); // read before the reply resets the session
        log.push(messageIdOf(raw));
        bytes += raw.length;
        callback();
        if (watchDomain && to.some((a) => a.toLowerCase().endsWith(`@${watchDomain}`))) {
          simpleParser(raw).then(
            (p) =>
              process.send({
                type: 'mail',
                to: to[0],
                subject: p.subject ?? '',
                text: p.text ?? '',
                messageId: p.messageId ?? '',
              }),
            (err) => console.error('sink: cannot parse a message:', err.message),
          );
        }
      });
    },
  });
  s.on('error', () => {});
  s.server.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  return new Promise((resolve, reject) => {
    s.server.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      port = s.server.address().port;
      server = { smtp: s, connections };
      resolve();
    });
  });
}

function stopHard() {
  if (!server) return Promise.resolve();
  const { smtp, connections } = server;
  server = undefined;
  return new Promise((resolve) => {
    smtp.server.close(() => resolve());
    for (const socket of connections) socket.destroy();
  });
}

async function startAgain() {
  // The port was just released; a TIME_WAIT never blocks a listener, but retry briefly anyway.
  for (let i = 0; ; i++) {
    try {
      await listen();
      return;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

process.on('message', async (m) => {
  const reply = (body) => process.send({ type: 'reply', id: m.id, ...body });
  switch (m.cmd) {
    case 'stats':
      return reply({ count: log.length, bytes, listening: Boolean(server) });
    case 'ids':
      return reply({ ids: log.slice(m.from ?? 0, m.to ?? log.length) });
    case 'watch':
      watchDomain = m.domain;
      return reply({});
    case 'stop':
      await stopHard();
      return reply({ port });
    case 'start':
      await startAgain();
      return reply({ port });
    case 'exit':
      await stopHard();
      reply({});
      return setTimeout(() => process.exit(0), 20);
  }
});

await listen();
process.send({ type: 'ready', port });
