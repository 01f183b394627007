import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { k } from "../../../cluster/client/cluster-access.ts";
import {
  generatorPid,
  killProcess,
  pickPod,
  pickPodToKill,
  tickLead,
  type ChaosContext,
  type Fault,
  waitServingAgain,
} from "./chaos-fault.ts";
import { DONT_FAKE_MONOTONIC_ANNOTATION, setClockOffset } from "./faketime-setup.ts";
import type { FleetPod } from "./fleet-observer.ts";
import { processMaps } from "./host-faults.ts";

/** One pod's clock runs fast, another's slow: twice the 1000 ppm the protocol states it tolerates. */
const RATES = [1.002, 0.998] as const;
const WINDOW_MS = 24_000;
const EDGE_MS = 4_000;

/**
 * Clocks at the wrong rate, not the wrong time: one pod at x1.002 and one at x0.998 (libfaketime
 * rate factors) for 24 s. Wall clock only: set in the running processes, then put right (the
 * fast one steps back). Wall + monotonic: the two containers are killed and restarted with both
 * clocks faked from their start (the lease fence runs on the monotonic clock), then the pods are
 * replaced. Uniqueness does not depend on either clock; the drift each pod's IDs show against
 * the run's clock is reported, so the timeline shows the fault took effect.
 */
export function clockRate({ monotonicToo }: { monotonicToo: boolean }): Fault {
  return {
    name: `clock rate x${RATES.join(" / x")}, ${monotonicToo ? "wall + monotonic (restarted into it)" : "wall clock only"}`,
    inject: async (ctx, round) => {
      const pods = monotonicToo ? await restartWithFakedMonotonic(ctx, round) : twoPods(ctx, round);
      if (!monotonicToo)
        pods.forEach((pod, i) => setClockOffset(ctx.faketimeDir, pod.uid, `+0 x${RATES[i]}`));
      const from = Date.now();
      await sleep(WINDOW_MS);
      const to = Date.now();
      const drifts = pods.map((pod) => {
        const early = tickLead(ctx, pod.uid, from, from + EDGE_MS);
        const late = tickLead(ctx, pod.uid, to - EDGE_MS, to);
        return early && late ? Math.round(late.medianMs - early.medianMs) : Number.NaN;
      });
      if (monotonicToo) {
        // Fresh pod instances (new UIDs, no setting file) run on true time again.
        for (const pod of pods) await k(["delete", "pod", "-n", ctx.namespace, pod.name, "--wait=false"]);
      } else {
        for (const pod of pods) setClockOffset(ctx.faketimeDir, pod.uid, "+0 x1");
        await sleep(2_000);
        // Put right as NTP would step it: the fast clock goes back, the slow one forward.
        for (const pod of pods) setClockOffset(ctx.faketimeDir, pod.uid, "+0");
      }
      const notes: Record<string, number> = {};
      pods.forEach(
        (pod, i) => (notes[`x${RATES[i]} ${pod.name} drift ms over ${WINDOW_MS / 1000}s`] = drifts[i]!),
      );
      return {
        detail:
          pods.map((pod, i) => `${pod.name} x${RATES[i]} (its IDs drifted ${drifts[i]} ms)`).join(", ") +
          (monotonicToo ? "; both pods replaced" : "; clocks put right"),
        notes,
      };
    },
  };
}

function twoPods(ctx: ChaosContext, round: number): FleetPod[] {
  const first = pickPod(ctx, round);
  const second = pickPod(ctx, round + 1);
  if (first.uid === second.uid) throw new Error("the rate fault needs two ready pods");
  return [first, second];
}

/** Kills two generators and lets the kubelet start them with both clocks faked at the rates. */
async function restartWithFakedMonotonic(ctx: ChaosContext, round: number): Promise<FleetPod[]> {
  const first = pickPodToKill(ctx, round);
  const second = [pickPodToKill(ctx, round + 1), pickPod(ctx, round + 1), pickPod(ctx, round + 2)].find(
    (p) => p.uid !== first.uid,
  );
  if (!second) throw new Error("the rate fault needs two ready pods");
  const pods = [first, second];
  for (const [i, pod] of pods.entries()) {
    // Read into FAKETIME_DONT_FAKE_MONOTONIC when the kubelet starts the container again.
    await k([
      "annotate",
      "pod",
      "-n",
      ctx.namespace,
      pod.name,
      `${DONT_FAKE_MONOTONIC_ANNOTATION}=0`,
      "--overwrite",
    ]);
    setClockOffset(ctx.faketimeDir, pod.uid, `+0 x${RATES[i]}`);
  }
  const pids = pods.map((pod) => generatorPid(pod));
  pods.forEach((pod, i) => killProcess(ctx, pod, pids[i]!));
  for (const [i, pod] of pods.entries()) {
    const pid = await waitServingAgain(ctx, pod, pids[i]!);
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    if (!env.includes("FAKETIME_DONT_FAKE_MONOTONIC=0") || !processMaps(pid, "libfaketime"))
      throw new Error(
        `${pod.name} restarted without its monotonic clock faked (environment: ${env.filter((e) => e.startsWith("FAKETIME")).join(" ")})`,
      );
  }
  return pods;
}
