import { describe, expect, it } from "vitest";
import { parseCustomMetricsEnv } from "./custom-metrics-env.ts";

describe("parseCustomMetricsEnv", () => {
  it("defaults to a self-signed server on 6443 reporting the generators' renew interval", () => {
    expect(parseCustomMetricsEnv({})).toEqual({
      enabled: true,
      port: 6443,
      serviceName: "idfleet-custom-metrics",
      windowSeconds: 5,
    });
  });

  it("takes a certificate from files and can be switched off", () => {
    expect(
      parseCustomMetricsEnv({
        IDFLEET_CUSTOM_METRICS: "false",
        IDFLEET_CUSTOM_METRICS_PORT: "8443",
        IDFLEET_CUSTOM_METRICS_TLS_CERT_FILE: "/tls/tls.crt",
        IDFLEET_CUSTOM_METRICS_TLS_KEY_FILE: "/tls/tls.key",
        IDFLEET_CUSTOM_METRICS_WINDOW_SECONDS: "",
      }),
    ).toMatchObject({
      enabled: false,
      port: 8443,
      tlsFiles: { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key" },
      windowSeconds: 5,
    });
  });

  it("names what to change", () => {
    expect(() => parseCustomMetricsEnv({ IDFLEET_CUSTOM_METRICS: "yes" })).toThrow(
      /IDFLEET_CUSTOM_METRICS must be true or false/,
    );
    expect(() => parseCustomMetricsEnv({ IDFLEET_CUSTOM_METRICS_PORT: "0" })).toThrow(
      /IDFLEET_CUSTOM_METRICS_PORT/,
    );
    // What a pod with service links gets from the Service idfleet-custom-metrics (seen on a real cluster).
    expect(() => parseCustomMetricsEnv({ IDFLEET_CUSTOM_METRICS_PORT: "tcp://10.96.12.34:443" })).toThrow(
      /service link of the Service idfleet-custom-metrics, not a port; set enableServiceLinks: false/,
    );
    expect(() => parseCustomMetricsEnv({ IDFLEET_CUSTOM_METRICS_TLS_CERT_FILE: "/tls/tls.crt" })).toThrow(
      /set both IDFLEET_CUSTOM_METRICS_TLS_CERT_FILE and IDFLEET_CUSTOM_METRICS_TLS_KEY_FILE/,
    );
  });
});
