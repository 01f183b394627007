// @idfleet/client: IDs from an idfleet fleet at in-process speed (docs/client.md).
export { createIdClient, type IdClient } from "./id-client.ts";
export { CLIENT_DEFAULTS, type IdClientOptions } from "./client-options.ts";
export type { ClientEvents, ClientStats, FailoverEvent, RefillEvent } from "./client-events.ts";
export { IdClientClosedError, IdFleetUnavailableError } from "./client-errors.ts";
export { registerPromMetrics, type PromClientLike } from "./prom-metrics.ts";
export type { IdBounds } from "../../contract/id-bounds.ts";
export type { DecodedId, IdLayout, LayoutMath } from "../../contract/id-layout-math.ts";
