import { describe, expect, test } from "vitest";
import { splitRuleLine } from "./host-network.ts";

describe("splitRuleLine", () => {
  test("keeps double-quoted comments whole, as iptables-save prints them", () => {
    expect(
      splitRuleLine('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ).toEqual([
      "-A",
      "PREROUTING",
      "-m",
      "comment",
      "--comment",
      "kubernetes service portals",
      "-j",
      "KUBE-SERVICES",
    ]);
  });

  test("splits plain rules on whitespace and unescapes quotes inside quoted words", () => {
    expect(
      splitRuleLine("-A FORWARD -i idfleet-cni0 -m comment --comment idfleet-cluster -j ACCEPT"),
    ).toEqual([
      "-A",
      "FORWARD",
      "-i",
      "idfleet-cni0",
      "-m",
      "comment",
      "--comment",
      "idfleet-cluster",
      "-j",
      "ACCEPT",
    ]);
    expect(splitRuleLine('--comment "say \\"hi\\""')).toEqual(["--comment", 'say "hi"']);
  });
});
