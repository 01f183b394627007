/** Where the integration tests' shared control plane is, as handed over by global-setup.ts. */
export type ControlPlaneInfo = {
  server: string;
  /** CA that signed the apiserver's serving certificate. */
  caFile: string;
  /** The PKI directory (client CA key included, so tests can mint users). */
  certDir: string;
  /** CA for client certificates (sign test users with it). */
  clientCaFile: string;
  clientCaKeyFile: string;
  /** Request-header (front-proxy) CA: aggregated API servers verify the apiserver's proxy client against it. */
  requestHeaderCaFile: string;
  /** CN of the front-proxy client certificate (--requestheader-allowed-names). */
  requestHeaderAllowedName: string;
  /** Admin kubeconfig for the aggregated API servers' delegated authn/authz. */
  adminKubeconfig: string;
  logDir: string;
  /**
   * A non-loopback address of this machine, on a device this run created (removed at teardown), for host
   * processes that back Services: Endpoints/EndpointSlices refuse loopback, so an aggregated API server
   * (e.g. custom.metrics.k8s.io) on the host listens here. Undefined when not running as root.
   */
  hostAddress?: string;
};

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of the admin (system:masters) kubeconfig of the shared control plane. */
    kubeconfig: string;
    controlPlane: ControlPlaneInfo;
  }
}
