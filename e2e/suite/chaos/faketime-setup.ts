import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IDFLEET_TMP } from "../../../cluster/paths.ts";
import { FAKETIME_LIB_DIR } from "./host-faults.ts";

/** Host directory holding one libfaketime setting file per pod instance (UID), mounted into the pods. */
export function faketimeDirFor(namespace: string): string {
  const dir = join(IDFLEET_TMP, "chaos", namespace, "faketime");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Writes a pod instance's libfaketime setting: an offset ("+0", "-30s"), optionally with a rate
 * ("+0 x1.002"); the pod re-reads it within a second. A pod instance without a file runs on
 * true time, so a replaced pod (new UID) starts clean. Rate changes continue from the current
 * faked time (FAKETIME_XRESET); an offset-only setting puts the clock back to true time + offset.
 */
export function setClockOffset(dir: string, podUid: string, setting: string): void {
  const file = join(dir, podUid);
  writeFileSync(file, `${setting}\n`);
  chmodSync(file, 0o644);
}

/** Pod annotation read into FAKETIME_DONT_FAKE_MONOTONIC when the generator container starts. */
export const DONT_FAKE_MONOTONIC_ANNOTATION = "chaos.idfleet.dev/dont-fake-monotonic";

/**
 * Adds libfaketime to the fleet's generator container (a server-side apply under our own field
 * manager, beside the operator's fields; the entries it adds to env, volumeMounts and volumes are
 * ours, and the operator leaves them alone instead of re-applying its StatefulSet): LD_PRELOAD from
 * the host's Debian package, the setting read from a per-pod-instance file every second. The
 * monotonic clock is left alone (the lease fence runs on it) unless the pod's annotation says
 * otherwise when its container starts (the rate fault restarts a container with it faked too).
 */
export function faketimeStatefulSetPatch(namespace: string, fleet: string): object {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: fleet, namespace },
    spec: {
      template: {
        metadata: { annotations: { [DONT_FAKE_MONOTONIC_ANNOTATION]: "1" } },
        spec: {
          containers: [
            {
              name: "generator",
              env: [
                { name: "CHAOS_POD_UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
                { name: "LD_PRELOAD", value: "/chaos-faketime-lib/libfaketime.so.1" },
                { name: "FAKETIME_TIMESTAMP_FILE", value: "/chaos-faketime/$(CHAOS_POD_UID)" },
                { name: "FAKETIME_CACHE_DURATION", value: "1" },
                { name: "FAKETIME_XRESET", value: "1" },
                {
                  name: "FAKETIME_DONT_FAKE_MONOTONIC",
                  valueFrom: {
                    fieldRef: { fieldPath: `metadata.annotations['${DONT_FAKE_MONOTONIC_ANNOTATION}']` },
                  },
                },
              ],
              volumeMounts: [
                { name: "chaos-faketime-lib", mountPath: "/chaos-faketime-lib", readOnly: true },
                { name: "chaos-faketime", mountPath: "/chaos-faketime", readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "chaos-faketime-lib", hostPath: { path: FAKETIME_LIB_DIR, type: "Directory" } },
            { name: "chaos-faketime", hostPath: { path: faketimeDirFor(namespace), type: "Directory" } },
          ],
        },
      },
    },
  };
}
