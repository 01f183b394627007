import { waitFor } from "../../../cluster/client/wait-for.ts";
import { generatorPid, pickPod, refusalsSince, type Fault } from "./chaos-fault.ts";
import { setClockOffset } from "./faketime-setup.ts";
import { processMaps } from "./host-faults.ts";

const AHEAD = "+5s";
const CAUGHT_WITHIN_MS = 30_000;

/**
 * A running generator's wall clock set 5 s ahead, in a fleet with no NTP servers: the step
 * fences it until its next renewal, whose answer's `Date` header proves the clock ahead of the
 * API server's, so it refuses with CLOCK_DRIFT (ticks ahead of true time could undercut a
 * lost-state floor) until the clock is put right, then waits out the ticks it issued ahead.
 */
export const clockAhead: Fault = {
  name: `clock ahead (libfaketime ${AHEAD}, no NTP: the API server's clock is the reference)`,
  inject: async (ctx, round) => {
    const pod = pickPod(ctx, round);
    if (!processMaps(generatorPid(pod), "libfaketime"))
      throw new Error(`the generator of ${pod.name} does not have libfaketime loaded`);
    const before = { ...ctx.pullers.totals.refusals };
    const from = Date.now();
    setClockOffset(ctx.faketimeDir, pod.uid, AHEAD);
    try {
      await waitFor(
        `CLOCK_DRIFT refusals from ${pod.name} with its clock ${AHEAD}`,
        async () => refusalsSince(ctx, before, ["CLOCK_DRIFT"]) > 0,
        { timeoutMs: CAUGHT_WITHIN_MS, intervalMs: 250 },
      );
    } finally {
      setClockOffset(ctx.faketimeDir, pod.uid, "+0");
    }
    const caughtAfterS = (Date.now() - from) / 1000;
    const clockDrift = refusalsSince(ctx, before, ["CLOCK_DRIFT"]);
    return {
      detail: `${pod.name} wall clock ${AHEAD}: refused with CLOCK_DRIFT after ${caughtAfterS.toFixed(1)} s (${clockDrift} by pod IP), then put right`,
      notes: { caughtAfterS, clockDrift },
    };
  },
};
