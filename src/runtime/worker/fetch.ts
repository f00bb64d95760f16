import { createApp } from '../../app.js';
import { ConfigError } from '../../config.js';
import type { Services } from '../../services.js';
import type { Env } from './env.js';
import { freezeAndFanOut } from './fan-out.js';
import { type Runtime, runtimeFor } from './runtime.js';
import { openScope, type Scope } from './scope.js';
import { deliver, seal } from './tasks.js';

/** Services for this request, found by the app through the request it serves. */
const requestServices = new WeakMap<Request, Services>();
const app = createApp((c) => {
  const services = requestServices.get((c as { req: { raw: Request } }).req.raw);
  if (!services) throw new Error('no services for this request');
  return services;
});

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A freeze after the response starts no slice after this: waitUntil has 30 s. */
const FREEZE_BUDGET_MS = 20_000;

function startupFailure(err: unknown): Response {
  // The operator sees which variables are wrong in the Worker's logs; the client sees the site's message.
  console.error(err instanceof ConfigError ? err.message : `quire failed to start: ${(err as Error).message}`);
  const body = {
    error: {
      code: 'service_unavailable',
      message: 'Something went wrong on our side. Please try again in a few minutes.',
      requestId: crypto.randomUUID(),
    },
  };
  return Response.json(body, { status: 503 });
}

/**
 * The same Hono app as on Node, with services built for this request (postgres.js through Hyperdrive,
 * nodemailer SMTP). A request that queued mail (a signup's confirmation) drains the outbox once in
 * `ctx.waitUntil` after the response, and a state-changing one seals the consent events it wrote.
 */
export async function fetchHandler(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  let rt: Runtime;
  let scope: Scope;
  // Mail queued by this request (a confirmation, a welcome, a preference link) is sent right after the
  // response, inside waitUntil; the cron is the safety net if this invocation dies first.
  let outboxChanged = false;
  // Broadcasts whose send this request accepted: their audiences are frozen after the response.
  const freezes: string[] = [];
  try {
    rt = runtimeFor(env);
    scope = await openScope(
      rt,
      env,
      'request',
      () => {
        outboxChanged = true;
      },
      (id) => freezes.push(id),
    );
  } catch (err) {
    return startupFailure(err);
  }
  requestServices.set(request, scope.services);
  let response: Response;
  try {
    response = await app.fetch(request, env, ctx);
  } catch (err) {
    ctx.waitUntil(scope.close());
    throw err;
  }
  ctx.waitUntil(
    (async () => {
      // A request that may have changed something may have written consent events: seal them now (one
      // index probe when it wrote none); the cron seals whatever an invocation that died left behind.
      if (!SAFE_METHODS.has(request.method)) await seal(scope.services, rt.log, 'request');
      // A send was accepted: freeze the audience (slices within this budget; the cron goes on with the
      // rest) and fan the broadcast out to the queue, so its first batch goes out now.
      if (freezes.length) await freezeAndFanOut(rt, scope.services, env.DELIVERY_QUEUE, Date.now() + FREEZE_BUDGET_MS);
      if (outboxChanged) {
        // One batch (transactional mail is claimed first), no housekeeping: bounded well inside the
        // 30 s that waitUntil has after the response.
        await deliver(scope.services, rt.log, 'request', { maxBatches: 1, housekeeping: false });
      }
      await scope.close();
    })(),
  );
  return response;
}
