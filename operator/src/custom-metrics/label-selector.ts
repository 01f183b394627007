/**
 * Kubernetes label selectors in their string form (`labels.Parse` in apimachinery), as the HPA
 * controller sends them in `labelSelector` and `metricSelector` query parameters.
 */

/** Operators a requirement can use. */
export const SelectorOperator = {
  Equals: "=",
  NotEquals: "!=",
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
  GreaterThan: ">",
  LessThan: "<",
} as const;
export type SelectorOperator = (typeof SelectorOperator)[keyof typeof SelectorOperator];

/** One comma-separated term of a selector. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** A parsed selector: all requirements must hold (an empty selector matches everything). */
export interface LabelSelector {
  readonly requirements: readonly SelectorRequirement[];
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  toString(): string;
}

/** Thrown for a selector string that does not parse; the message says what is wrong and where. */
export class LabelSelectorError extends Error {
  override name = "LabelSelectorError";
}

// A qualified name with an optional DNS-subdomain prefix: "app", "idfleet.dev/fleet".
const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const INTEGER = /^-?\d+$/;

type Token =
  | { kind: "word"; text: string; at: number }
  | { kind: "op"; text: "=" | "==" | "!=" | "!" | ">" | "<"; at: number }
  | { kind: "punct"; text: "(" | ")" | ","; at: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: "punct", text: c, at: i });
      i++;
    } else if (c === "=" || c === "!" || c === ">" || c === "<") {
      const two = input.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        tokens.push({ kind: "op", text: two, at: i });
        i += 2;
      } else {
        tokens.push({ kind: "op", text: c, at: i });
        i++;
      }
    } else {
      const start = i;
      while (i < input.length && !" \t(),=!><".includes(input[i]!)) i++;
      tokens.push({ kind: "word", text: input.slice(start, i), at: start });
    }
  }
  return tokens;
}

function requirementMatches(req: SelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  switch (req.operator) {
    case SelectorOperator.Equals:
    case SelectorOperator.In:
      return has && req.values.includes(value!);
    case SelectorOperator.NotEquals:
    case SelectorOperator.NotIn:
      return !has || !req.values.includes(value!);
    case SelectorOperator.Exists:
      return has;
    case SelectorOperator.DoesNotExist:
      return !has;
    case SelectorOperator.GreaterThan:
    case SelectorOperator.LessThan: {
      if (!has || !INTEGER.test(value!)) return false;
      const left = BigInt(value!);
      const right = BigInt(req.values[0]!);
      return req.operator === SelectorOperator.GreaterThan ? left > right : left < right;
    }
  }
}

function requirementToString(req: SelectorRequirement): string {
  switch (req.operator) {
    case SelectorOperator.Exists:
      return req.key;
    case SelectorOperator.DoesNotExist:
      return `!${req.key}`;
    case SelectorOperator.In:
    case SelectorOperator.NotIn:
      return `${req.key} ${req.operator} (${req.values.join(",")})`;
    default:
      return `${req.key}${req.operator}${req.values[0]}`;
  }
}

function makeSelector(requirements: SelectorRequirement[]): LabelSelector {
  return {
    requirements,
    matches: (labels) => requirements.every((r) => requirementMatches(r, labels ?? {})),
    toString: () => requirements.map(requirementToString).join(","),
  };
}

/** The selector that matches every object. */
export const everything: LabelSelector = makeSelector([]);

/**
 * Parses a selector such as `app=ids,tier in (a,b),!canary`. An empty or blank string selects
 * everything. Throws LabelSelectorError naming the offending position and what was expected.
 */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  const text = input ?? "";
  const tokens = tokenize(text);
  if (tokens.length === 0) return everything;
  const requirements: SelectorRequirement[] = [];
  let pos = 0;
  const fail = (message: string, at?: number): never => {
    const where = at ?? tokens[pos]?.at ?? text.length;
    throw new LabelSelectorError(`invalid label selector "${text}" at position ${where}: ${message}`);
  };
  const key = (word: string, at: number): string => {
    if (!KEY.test(word) || word.length > 316) {
      fail(`"${word}" is not a valid label key (name or prefix/name of alphanumerics, '-', '_', '.')`, at);
    }
    return word;
  };
  const value = (word: string, at: number): string => {
    if (!VALUE.test(word) || word.length > 63) {
      fail(`"${word}" is not a valid label value (up to 63 alphanumerics, '-', '_', '.')`, at);
    }
    return word;
  };

  for (;;) {
    const first = tokens[pos];
    if (first === undefined) fail("expected a requirement after ','");
    let req: SelectorRequirement;
    if (first!.kind === "op" && first!.text === "!") {
      pos++;
      const name = tokens[pos];
      if (name?.kind !== "word") fail("expected a label key after '!'");
      req = { key: key(name!.text, name!.at), operator: SelectorOperator.DoesNotExist, values: [] };
      pos++;
    } else if (first!.kind === "word") {
      const k = key(first!.text, first!.at);
      pos++;
      const next = tokens[pos];
      if (next === undefined || (next.kind === "punct" && next.text === ",")) {
        req = { key: k, operator: SelectorOperator.Exists, values: [] };
      } else if (next.kind === "op" && next.text !== "!") {
        pos++;
        const v = tokens[pos];
        let word = "";
        if (v?.kind === "word") {
          word = v.text;
          pos++;
        } else if (next.text === ">" || next.text === "<") {
          fail(`expected an integer after '${next.text}'`);
        }
        const operator =
          next.text === "=" || next.text === "=="
            ? SelectorOperator.Equals
            : next.text === "!="
              ? SelectorOperator.NotEquals
              : next.text === ">"
                ? SelectorOperator.GreaterThan
                : SelectorOperator.LessThan;
        if ((operator === ">" || operator === "<") && !INTEGER.test(word)) {
          fail(`'${next.text}' needs an integer, got "${word}"`, v?.at);
        }
        req = { key: k, operator, values: [value(word, v?.at ?? next.at)] };
      } else if (next.kind === "word" && (next.text === "in" || next.text === "notin")) {
        pos++;
        if (tokens[pos]?.kind !== "punct" || tokens[pos]!.text !== "(")
          fail(`expected '(' after '${next.text}'`);
        pos++;
        const values: string[] = [];
        for (;;) {
          const v = tokens[pos];
          if (v?.kind === "word") {
            values.push(value(v.text, v.at));
            pos++;
          } else {
            values.push("");
          }
          const sep = tokens[pos];
          if (sep?.kind === "punct" && sep.text === ",") {
            pos++;
            continue;
          }
          if (sep?.kind === "punct" && sep.text === ")") {
            pos++;
            break;
          }
          fail("expected ',' or ')' in a value set");
        }
        req = { key: k, operator: next.text === "in" ? SelectorOperator.In : SelectorOperator.NotIn, values };
      } else {
        fail("expected one of '=', '==', '!=', '>', '<', 'in', 'notin', ',' after a key");
      }
    } else {
      fail("expected a label key or '!key'");
    }
    requirements.push(req!);
    const sep = tokens[pos];
    if (sep === undefined) break;
    if (sep.kind !== "punct" || sep.text !== ",") fail("expected ',' between requirements");
    pos++;
  }
  return makeSelector(requirements);
}
