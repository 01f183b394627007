import { setTimeout as sleep } from "node:timers/promises";
import { GENERATOR_ENV_DEFAULTS } from "../../../contract/generator-env.ts";
import { GENERATOR_METRIC_PREFIX } from "../../../contract/metric-names.ts";
import {
  generatorPid,
  killProcess,
  pickPodToKill,
  tickLead,
  type Fault,
  waitServingAgain,
} from "./chaos-fault.ts";
import type { FleetPod } from "./fleet-observer.ts";

const OVERLOAD_MS = 15_000;
/** Requests in flight against the one pod, on top of the run's own two. */
const OVERLOAD_CLIENTS = 16;
const BATCH = 10_000;

/**
 * Sustained overload past the sequence capacity (2^sequenceBits IDs per tick) of one pod, then
 * kill -9 and the kubelet's immediate restart. Generators that borrow future timestamps under
 * load (baidu uid-generator#85) repeat them after such a restart; idfleet's issuer waits for the
 * next tick instead. The extra load's bodies are drained, not parsed (the run's own clients keep
 * pulling and checking that pod's IDs throughout); the timeline shows the sequence exhaustions
 * the pod counted and how far ahead of the receive time its newest ticks ever were.
 */
export const overloadThenKill: Fault = {
  name: "overload past sequence capacity, kill -9, restart at once",
  inject: async (ctx, round) => {
    const pod = pickPodToKill(ctx, round);
    const exhaustionsBefore = await counter(pod, "sequence_exhaustions_total");
    const load = { ok: 0, busy: 0, other: 0 };
    const from = Date.now();
    const stopAt = from + OVERLOAD_MS;
    const url = `http://${pod.ip}:${GENERATOR_ENV_DEFAULTS.port}/v1/ids?count=${BATCH}`;
    await Promise.all(
      Array.from({ length: OVERLOAD_CLIENTS }, async () => {
        while (Date.now() < stopAt) {
          try {
            const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
            const body = await response.arrayBuffer();
            if (response.status === 200) load.ok++;
            else if (new TextDecoder().decode(body).includes('"BUSY"')) load.busy++;
            else load.other++;
          } catch {
            load.other++;
            await sleep(100);
          }
        }
      }),
    );
    const seconds = (Date.now() - from) / 1000;
    const exhaustions = (await counter(pod, "sequence_exhaustions_total")) - exhaustionsBefore;
    const lead = tickLead(ctx, pod.uid, from, Date.now());
    const pid = generatorPid(pod);
    killProcess(ctx, pod, pid);
    const killedAt = Date.now();
    await waitServingAgain(ctx, pod, pid);
    const overloadIdsPerS = Math.round((load.ok * BATCH) / seconds);
    return {
      detail:
        `${pod.name}: ${OVERLOAD_CLIENTS} extra clients for ${seconds.toFixed(0)}s drew ${overloadIdsPerS.toLocaleString("en-US")} IDs/s ` +
        `(${exhaustions.toLocaleString("en-US")} sequence exhaustions, ${load.busy} BUSY); newest tick at most ${lead?.maxMs ?? "?"} ms ` +
        `ahead of receipt; killed, served again after ${((Date.now() - killedAt) / 1000).toFixed(1)}s`,
      notes: {
        overloadIdsPerS,
        sequenceExhaustions: exhaustions,
        busy: load.busy,
        otherAnswers: load.other,
        maxTickLeadMs: lead?.maxMs ?? Number.NaN,
      },
    };
  },
};

/** A counter from the pod's /metrics. */
async function counter(pod: FleetPod, name: string): Promise<number> {
  const text = await (
    await fetch(`http://${pod.ip}:${GENERATOR_ENV_DEFAULTS.port}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    })
  ).text();
  const match = new RegExp(`^${GENERATOR_METRIC_PREFIX}${name} (\\S+)$`, "m").exec(text);
  if (!match) throw new Error(`${pod.name}'s /metrics has no ${GENERATOR_METRIC_PREFIX}${name}`);
  return Number(match[1]);
}
