/**
 * `AuthThrottle`: one SQLite-backed Durable Object per client address
 * (`idFromName(ip)`), counting that address's failed authentications with a
 * GCRA cell, so the limit holds across every gateway isolate. Only failures
 * are recorded. A credential the asking isolate has not verified before is
 * refused while its address is over the limit ({@link AuthThrottle.status}),
 * so a guess that happens to be right looks exactly like a wrong one; one it
 * has verified before is not, so a noisy neighbour behind the same address
 * cannot lock out a caller already using the gateway.
 */
import { DurableObject } from "cloudflare:workers";
import { Gcra, type RateLimitConfig } from "../../upstream-guard/src/policies";

/** Result of {@link AuthThrottle.recordFailure}. */
export interface ThrottleDecision {
  /** True when this failure is over the limit: answer 429 instead of 401. */
  limited: boolean;
  /** ms until another failure would be accepted (0 when not limited). */
  retryAfterMs: number;
  /** Failures left before the limit. */
  remaining: number;
}

/** `limit` failures per `windowMs`, all of which may come at once. */
export interface ThrottleConfig {
  limit: number;
  windowMs: number;
}

/** The failed-authentication counter of one client address. */
export class AuthThrottle extends DurableObject {
  /** Time source; tests replace it. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS cell (id INTEGER PRIMARY KEY CHECK (id = 1), tat REAL NOT NULL)");
  }

  /**
   * Records one failed authentication. Over the limit, the failure is not
   * counted again (the cell does not run further ahead), so the address is
   * admitted again `retryAfterMs` after its last counted failure.
   */
  async recordFailure(config: ThrottleConfig): Promise<ThrottleDecision> {
    const now = this.clock();
    const rate: RateLimitConfig = { limit: config.limit, periodMs: config.windowMs, burst: config.limit };
    const gcra = new Gcra(rate, this.tat());
    const decision = gcra.take(now);
    if (decision.allowed) {
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO cell (id, tat) VALUES (1, ?)", gcra.toJSON().tat);
      // Nothing to keep once the cell has fully refilled.
      await this.ctx.storage.setAlarm(now + decision.resetMs + 1000);
    }
    return { limited: !decision.allowed, retryAfterMs: decision.retryAfterMs, remaining: decision.remaining };
  }

  /** Whether the address is over the limit now (counts nothing). */
  async status(config: ThrottleConfig): Promise<ThrottleDecision> {
    const now = this.clock();
    const rate: RateLimitConfig = { limit: config.limit, periodMs: config.windowMs, burst: config.limit };
    const decision = new Gcra(rate, this.tat()).peek(now);
    return { limited: !decision.allowed, retryAfterMs: decision.retryAfterMs, remaining: decision.remaining };
  }

  /** Forgets the address once its cell has refilled. */
  override async alarm(): Promise<void> {
    const tat = this.tat();
    if (tat <= this.clock()) this.ctx.storage.sql.exec("DELETE FROM cell");
  }

  private tat(): number {
    return this.ctx.storage.sql.exec<{ tat: number }>("SELECT tat FROM cell WHERE id = 1").toArray()[0]?.tat ?? 0;
  }
}
