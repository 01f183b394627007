/**
 * Where each tick's sequence starts (fleet `spec.sequence.start`, generator
 * IDGEN_SEQUENCE_START). `zero`: every tick starts at 0, so at low traffic most IDs end in
 * sequence 0 and `id % N` piles into one shard. `rolling`: a tick starts where the previous
 * one stopped (its last sequence + 1, modulo 2^S), so consecutive IDs' low bits cycle. A
 * tick never wraps inside itself (IDs stay strictly increasing), so under full load a
 * rolling tick may hold fewer than 2^S IDs.
 */
export const SequenceStart = {
  zero: "zero",
  rolling: "rolling",
} as const;
export type SequenceStart = (typeof SequenceStart)[keyof typeof SequenceStart];

/** Every setting, for schemas and messages. */
export const SEQUENCE_STARTS = Object.values(SequenceStart) as readonly SequenceStart[];

/** The setting when none is given: the behaviour every earlier version had. */
export const DEFAULT_SEQUENCE_START: SequenceStart = SequenceStart.zero;
