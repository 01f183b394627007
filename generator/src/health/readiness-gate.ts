/** One readiness condition: fine, or not with a stable reason code and a human message. */
export type ConditionStatus = { ok: true } | { ok: false; reason: string; message: string };

/** The condition that is fine. */
export const OK: ConditionStatus = Object.freeze({ ok: true });

/** Result of evaluating every condition. */
export interface Readiness {
  ready: boolean;
  /** Each condition by name, in registration order. */
  conditions: Record<string, ConditionStatus>;
  /** The failing conditions, for /readyz and the lease's holderMessage. */
  failing: { condition: string; reason: string; message: string }[];
}

/**
 * Named readiness conditions. Each is either a value set by its owner (`set`) or a check
 * evaluated on every read (`define`), for conditions that expire with time. Ready only
 * when every condition is ok: a generator that cannot issue correct IDs says so here.
 */
export class ReadinessGate {
  private readonly checks = new Map<string, () => ConditionStatus>();

  /** Registers or replaces a condition evaluated on every read. */
  define(name: string, check: () => ConditionStatus): void {
    this.checks.set(name, check);
  }

  /** Sets a condition to a fixed status until set again. */
  set(name: string, status: ConditionStatus): void {
    this.checks.set(name, () => status);
  }

  evaluate(): Readiness {
    const conditions: Record<string, ConditionStatus> = {};
    const failing: Readiness["failing"] = [];
    for (const [name, check] of this.checks) {
      const status = check();
      conditions[name] = status;
      if (!status.ok) failing.push({ condition: name, reason: status.reason, message: status.message });
    }
    return { ready: failing.length === 0, conditions, failing };
  }
}
