import { mailgun, sendgrid, ses } from '../support/provider-cases.js';
import { providerDeliverySuite } from '../support/providers-delivery.js';

// The APIs that take one finished message a request (SES raw, Mailgun MIME, SendGrid), end to end.
providerDeliverySuite([ses, mailgun, sendgrid]);
