import { AuthorizationV1Api, type KubeConfig, type V1SubjectAccessReview } from "@kubernetes/client-node";
import type { AuthorizationAttributes } from "./custom-metrics-request.ts";
import type { UserInfo } from "./request-authentication.ts";

/** The API server's answer for one user and request. */
export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly reason: string;
}

/** Builds the SubjectAccessReview that asks whether `user` may do `attributes`. */
export function subjectAccessReview(
  user: UserInfo,
  attributes: AuthorizationAttributes,
): V1SubjectAccessReview {
  const { kind: _kind, ...attrs } = attributes;
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: [...user.groups],
      extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])),
      ...(attributes.kind === "resource" ? { resourceAttributes: attrs } : { nonResourceAttributes: attrs }),
    },
  };
}

/**
 * Delegated authorization: asks the API server (SubjectAccessReview, allowed to the operator by
 * system:auth-delegator) whether a caller may read what it asks for, so RBAC stays the single
 * place that decides. Decisions are cached for `ttlMs` (the HPA asks every sync period).
 */
export class DelegatedAuthorizer {
  readonly #api: AuthorizationV1Api;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { decision: AuthorizationDecision; expiresAt: number }>();

  constructor(kubeConfig: KubeConfig, ttlMs = 10_000) {
    this.#api = kubeConfig.makeApiClient(AuthorizationV1Api);
    this.#ttlMs = ttlMs;
  }

  async authorize(user: UserInfo, attributes: AuthorizationAttributes): Promise<AuthorizationDecision> {
    const review = subjectAccessReview(user, attributes);
    const key = JSON.stringify(review.spec);
    const now = performance.now();
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.expiresAt > now) return cached.decision;
    const result = await this.#api.createSubjectAccessReview({ body: review });
    const decision = { allowed: result.status?.allowed === true, reason: result.status?.reason ?? "" };
    if (this.#cache.size >= 4096) this.#cache.clear();
    this.#cache.set(key, { decision, expiresAt: now + this.#ttlMs });
    return decision;
  }
}
