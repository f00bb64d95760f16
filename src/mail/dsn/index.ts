/** MAIL_DSN: one URL names the mail transport (README "Choosing how mail is sent"). */
export { parseMailDsn, redactDsn } from './parse.js';
export { isLoopbackHost } from './schemes.js';
export {
  describeTransport,
  mailDsn,
  mailSettingsProblems,
  mailTransports,
  smtpUrlAlias,
  transportRuntimeProblem,
} from './settings.js';
export * from './types.js';
