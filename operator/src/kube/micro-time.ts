/**
 * A Date as Kubernetes MicroTime (RFC 3339 with exactly six fractional digits). client-node
 * sends Date objects as toISOString() (three digits), which MicroTime fields reject.
 */
export function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z") as unknown as Date;
}
