import type { LayoutMath } from "../../contract/id-layout-math.ts";
import { layoutFromDocument } from "../../contract/layout-document.ts";

/** A served layout: its math, and a key equal for endpoints whose IDs can share one table. */
export interface FleetLayout {
  math: LayoutMath;
  /** The layout fields and the id space, as JSON: endpoints with different keys could issue the same ID. */
  key: string;
}

/** Reads a GET /v1/layout body; throws a message naming what is wrong with it. */
export function readFleetLayout(body: Uint8Array): FleetLayout {
  const document = JSON.parse(new TextDecoder().decode(body)) as { idSpace?: unknown };
  const math = layoutFromDocument(document);
  const { timestampBits, workerIdBits, sequenceBits, timeUnitMs, epoch } = math.layout;
  const key = JSON.stringify({
    timestampBits,
    workerIdBits,
    sequenceBits,
    timeUnitMs,
    epoch,
    idSpace: document.idSpace,
  });
  return { math, key };
}

/** Why an endpoint serving `other` must not be used beside endpoints serving `ours`. */
export function layoutMismatch(ours: FleetLayout, other: FleetLayout): string {
  return `serves layout ${other.key}, but the client's endpoints serve ${ours.key}: another fleet or id space, whose IDs could repeat these`;
}
