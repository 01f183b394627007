import { describe, expect, it } from "vitest";
import { LabelSelectorError, SelectorOperator, everything, parseLabelSelector } from "./label-selector.ts";

const pod = { "idfleet.dev/fleet": "orders", app: "ids", tier: "edge", rank: "7" };

describe("parseLabelSelector", () => {
  it("treats an empty or missing selector as everything", () => {
    expect(parseLabelSelector("")).toBe(everything);
    expect(parseLabelSelector(undefined)).toBe(everything);
    expect(parseLabelSelector("  ").matches({})).toBe(true);
  });

  it("parses the forms the HPA controller sends", () => {
    const s = parseLabelSelector("idfleet.dev/fleet=orders,app==ids,tier!=core");
    expect(s.requirements).toEqual([
      { key: "idfleet.dev/fleet", operator: SelectorOperator.Equals, values: ["orders"] },
      { key: "app", operator: SelectorOperator.Equals, values: ["ids"] },
      { key: "tier", operator: SelectorOperator.NotEquals, values: ["core"] },
    ]);
    expect(s.matches(pod)).toBe(true);
    expect(s.matches({ ...pod, tier: "core" })).toBe(false);
    expect(s.toString()).toBe("idfleet.dev/fleet=orders,app=ids,tier!=core");
  });

  it("supports set, existence and numeric requirements", () => {
    expect(parseLabelSelector("tier in (edge, core)").matches(pod)).toBe(true);
    expect(parseLabelSelector("tier notin (edge,core)").matches(pod)).toBe(false);
    expect(parseLabelSelector("missing notin (a)").matches(pod)).toBe(true);
    expect(parseLabelSelector("missing in (a)").matches(pod)).toBe(false);
    expect(parseLabelSelector("app").matches(pod)).toBe(true);
    expect(parseLabelSelector("!app").matches(pod)).toBe(false);
    expect(parseLabelSelector("!canary,app").matches(pod)).toBe(true);
    expect(parseLabelSelector("rank>5").matches(pod)).toBe(true);
    expect(parseLabelSelector("rank<5").matches(pod)).toBe(false);
    expect(parseLabelSelector("app>5").matches(pod)).toBe(false);
    expect(parseLabelSelector("tier in (edge,core),!canary").toString()).toBe("tier in (edge,core),!canary");
  });

  it("compares values exactly, including the empty value", () => {
    expect(parseLabelSelector("app=").matches({ app: "" })).toBe(true);
    expect(parseLabelSelector("app=").matches({})).toBe(false);
    expect(parseLabelSelector("app=ids").matches(undefined)).toBe(false);
    expect(parseLabelSelector("app!=ids").matches(undefined)).toBe(true);
  });

  it.each([
    ["app=ids,", /expected a requirement after ','/],
    ["app ids", /expected one of '=', '==', '!=', '>', '<', 'in', 'notin'/],
    ["tier in edge", /expected '\(' after 'in'/],
    ["tier in (a b)", /expected ',' or '\)' in a value set/],
    ["rank>x", /'>' needs an integer, got "x"/],
    ["-bad=1", /"-bad" is not a valid label key/],
    ["app=bad/value", /"bad\/value" is not a valid label value/],
    ["!", /expected a label key after '!'/],
    ["=x", /expected a label key or '!key'/],
  ])("rejects %j with a message that says what is wrong", (input, message) => {
    expect(() => parseLabelSelector(input)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(input)).toThrow(message);
  });
});
