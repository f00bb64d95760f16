import { postmark, resend } from '../support/provider-cases.js';
import { providerDeliverySuite } from '../support/providers-delivery.js';

// The batch APIs (Postmark 500 a request, Resend 100) end to end; the per-message ones are in
// providers-delivery-api.test.ts, so the two files run side by side.
providerDeliverySuite([postmark, resend]);
