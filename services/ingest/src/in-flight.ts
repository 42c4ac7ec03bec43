import type { Identity } from '@fleetwire/auth';
import { HttpError } from '@fleetwire/protocol';

export interface InFlightLimits {
  /** Requests of one token (tenant, role and subject) in progress at once: 429 beyond. */
  perToken: number;
  /** Of one tenant, all its tokens together: 503 `api_busy` beyond. */
  perTenant: number;
  /** Of everyone: 503 `api_busy` beyond. */
  total: number;
}

/**
 * Read requests in progress, counted per token, per tenant and in all. A read may run for a
 * while (a series over a long range, a page of large rows) and the store is shared with the
 * writes: without the tenant and total bounds, many tokens each within their own allowance
 * filled the embedded database's line of statements, and the telemetry writer waiting behind
 * them held every tenant's acks for tens of seconds. The total stays far below that line.
 */
export class InFlightRequests {
  private readonly byToken = new Map<string, number>();
  private readonly byTenant = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: InFlightLimits) {}

  /** Counts the request in, or refuses it; the answer releases it (call once it is done). */
  admit(identity: Identity): () => void {
    const token = `${identity.tenant}\n${identity.role}\n${identity.subject}`;
    const { perToken, perTenant, total } = this.limits;
    if ((this.byToken.get(token) ?? 0) >= perToken) {
      throw new HttpError(
        'too_many_requests',
        `this token has ${perToken} requests in progress; wait for one to finish`,
      );
    }
    if ((this.byTenant.get(identity.tenant) ?? 0) >= perTenant) {
      throw new HttpError(
        'api_busy',
        `this tenant has ${perTenant} read requests in progress here; retry shortly`,
      );
    }
    if (this.total >= total) {
      throw new HttpError('api_busy', `${total} read requests are in progress here; retry shortly`);
    }
    add(this.byToken, token, 1);
    add(this.byTenant, identity.tenant, 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      add(this.byToken, token, -1);
      add(this.byTenant, identity.tenant, -1);
      this.total -= 1;
    };
  }
}

function add(counts: Map<string, number>, key: string, change: 1 | -1): void {
  const count = (counts.get(key) ?? 0) + change;
  if (count === 0) counts.delete(key);
  else counts.set(key, count);
}
