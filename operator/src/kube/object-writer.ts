import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { FleetResource, type FleetStatus, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { FIELD_MANAGER } from "../reconcile/fleet-naming.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { isNotFound } from "./api-errors.ts";
import { isUpToDate, withAppliedHash, type Annotated } from "./desired-match.ts";

const ssa = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

/**
 * Every write the operator makes goes through here: server-side apply with one field
 * manager (forced: the operator owns these fields), skipped when the cached live object
 * already matches, and counted per kind and verb.
 */
export class ObjectWriter {
  readonly #objects: KubernetesObjectApi;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #metrics: OperatorMetrics;

  constructor(kubeConfig: KubeConfig, metrics: OperatorMetrics) {
    this.#objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#metrics = metrics;
  }

  #count(kind: string, verb: string) {
    this.#metrics.apiWrites.inc({ kind, verb });
  }

  /** Applies `desired` unless `live` (from the cache) already matches it. Returns whether it wrote. */
  async apply<T extends KubernetesObject & Annotated>(desired: T, live: unknown): Promise<boolean> {
    const stamped = withAppliedHash(desired);
    if (isUpToDate(live, stamped)) return false;
    await this.#objects.patch(
      stamped,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
    this.#count(desired.kind ?? "", "apply");
    return true;
  }

  /** Deletes an object (gone already counts as done). */
  async delete(obj: KubernetesObject): Promise<void> {
    try {
      await this.#objects.delete(obj);
      this.#count(obj.kind ?? "", "delete");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Applies the fleet's status through the status subresource. */
  async applyFleetStatus(fleet: IdGeneratorFleet, status: FleetStatus): Promise<void> {
    const { group, version, plural, apiVersion, kind } = FleetResource;
    const { name, namespace } = fleet.metadata;
    await this.#custom.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        plural,
        namespace,
        name,
        body: { apiVersion, kind, metadata: { name, namespace }, status },
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      ssa,
    );
    this.#count(kind, "apply-status");
  }

  /** Applies the operator's finalizers on the fleet (an empty list removes ours). */
  async applyFleetFinalizers(fleet: IdGeneratorFleet, finalizers: string[]): Promise<void> {
    const { group, version, plural, apiVersion, kind } = FleetResource;
    const { name, namespace } = fleet.metadata;
    await this.#custom.patchNamespacedCustomObject(
      {
        group,
        version,
        plural,
        namespace,
        name,
        body: { apiVersion, kind, metadata: { name, namespace, finalizers } },
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      ssa,
    );
    this.#count(kind, "apply-finalizers");
  }

  /** Records a core/v1 Event on the fleet. Events are best effort: a failure is logged, never fatal. */
  async recordEvent(
    fleet: IdGeneratorFleet,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date();
    await this.#core.createNamespacedEvent({
      namespace: fleet.metadata.namespace,
      body: {
        metadata: { generateName: `${fleet.metadata.name}.`, namespace: fleet.metadata.namespace },
        involvedObject: {
          apiVersion: FleetResource.apiVersion,
          kind: FleetResource.kind,
          name: fleet.metadata.name,
          namespace: fleet.metadata.namespace,
          uid: fleet.metadata.uid,
        },
        type,
        reason,
        message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: FIELD_MANAGER },
        reportingComponent: FIELD_MANAGER,
      },
    });
    this.#count("Event", "create");
  }
}
