import { LedgerEntryState, type Ledger, type LedgerEntry } from "../../../../contract/lease-record.ts";
import type { SpaceLayout } from "../../../../contract/id-space-layout.ts";

/** A ledger entry that claims its worker id for one lease. */
export type LeasedEntry = LedgerEntry & { state: typeof LedgerEntryState.Leased };

/** What every entry the draft writes is stamped with. */
export interface DraftContext {
  /** The fleet planning (fleetKey): it claims and retires ids in its own name. */
  fleet: string;
  /** Wall time now (RFC 3339), only stamped into `since` for humans. */
  nowWall: string;
  /** The fleet's lease duration: a retired holder's longer one is recorded in its entry. */
  leaseDurationMs: number;
}

/**
 * The id space's ledger as this plan changes it: entries, nextAssignment and baseFloor,
 * a reason line per change (for events and logs), and whether it needs writing at all.
 * Starts as the ledger read; the plan writes it back whole, conditioned on that read.
 */
export class LedgerDraft {
  readonly entries: Map<number, LedgerEntry>;
  nextAssignment: number;
  baseFloor: number;
  /** One line per changed entry (and a raised base floor). */
  readonly reasons: string[] = [];
  /** Something changed that the stored ledger does not have yet. */
  dirty = false;
  readonly #read: Ledger;
  readonly #context: DraftContext;

  constructor(read: Ledger, start: { nextAssignment: number; baseFloor: number }, context: DraftContext) {
    this.#read = read;
    this.#context = context;
    this.entries = new Map(read.entries);
    this.nextAssignment = start.nextAssignment;
    this.baseFloor = start.baseFloor;
  }

  /** The entry for `w` as this plan has it so far. */
  entry(w: number): LedgerEntry | undefined {
    return this.entries.get(w);
  }

  /** The entry for `w` was written in this plan: it is not durable yet. */
  writtenThisPlan(w: number): boolean {
    return this.entries.get(w) !== this.#read.entries.get(w);
  }

  /** Raises the floor of ids the ledger has no entry for. */
  raiseBaseFloor(tick: number, reason: string): void {
    this.baseFloor = tick;
    this.dirty = true;
    this.reasons.push(reason);
  }

  /** Changes an entry; a null reason is bookkeeping nobody needs an event for. */
  record(w: number, entry: LedgerEntry, reason: string | null): void {
    this.entries.set(w, entry);
    this.dirty = true;
    if (reason !== null) this.reasons.push(`worker id ${w}: ${reason}`);
  }

  /** The floor a handover of `w` from the ledger's record gives (a free entry's, or baseFloor for an id it never had). */
  handoverFloor(w: number): number {
    return this.#entryFloor(this.entries.get(w));
  }

  /** The highest floor the ledger records for any id (baseFloor included). */
  highestFloor(): number {
    return Math.max(this.baseFloor, ...[...this.entries.values()].map((e) => this.#entryFloor(e)));
  }

  /** A fresh assignment number; the ledger's counter only ever rises. */
  takeAssignment(): number {
    return this.nextAssignment++;
  }

  /** Claims `w` for a lease of this fleet. */
  claim(w: number, claim: Omit<LeasedEntry, "state" | "fleet" | "since">, reason: string): void {
    this.record(
      w,
      { state: LedgerEntryState.Leased, fleet: this.#context.fleet, ...claim, since: this.#context.nowWall },
      reason,
    );
  }

  /** Marks `w` free above `floor` (no holder can be issuing); nothing when it already is. */
  free(w: number, floor: number, who: string): void {
    const current = this.entries.get(w);
    if (current?.state !== LedgerEntryState.Free || current.reservedUntil !== floor) {
      this.record(
        w,
        { state: LedgerEntryState.Free, reservedUntil: floor, since: this.#context.nowWall },
        `freed from ${who}`,
      );
    }
  }

  /**
   * Marks `w` retiring from a holder that may still issue up to `floor`; never lowers a
   * recorded floor or the lease duration the holder fences itself by.
   */
  retire(w: number, floor: number, who: string, holderLeaseDurationSeconds: number): void {
    const current = this.entries.get(w);
    const longerLease =
      holderLeaseDurationSeconds * 1000 > this.#context.leaseDurationMs ? { holderLeaseDurationSeconds } : {};
    if (
      current?.state === LedgerEntryState.Retiring &&
      current.reservedUntil >= floor &&
      (current.holderLeaseDurationSeconds ?? 0) >= holderLeaseDurationSeconds
    )
      return;
    this.record(
      w,
      {
        state: LedgerEntryState.Retiring,
        fleet: this.#context.fleet,
        reservedUntil: floor,
        since: this.#context.nowWall,
        formerHolder: who,
        ...longerLease,
      },
      `retiring from ${who} (reserved until tick ${floor})`,
    );
  }

  /** The ledger to write: the draft in the id space's layout, with its high-water ID. */
  toLedger(layout: SpaceLayout, highWaterId: bigint): Ledger {
    const baseFloor = this.baseFloor;
    const formerLayouts = this.#read.formerLayouts;
    return {
      nextAssignment: this.nextAssignment,
      ...(baseFloor ? { baseFloor } : {}),
      layout,
      highWaterId,
      ...(formerLayouts ? { formerLayouts } : {}),
      entries: this.entries,
    };
  }

  #entryFloor(entry: LedgerEntry | undefined): number {
    if (entry === undefined) return this.baseFloor;
    if (entry.state === LedgerEntryState.Leased) return Math.max(entry.floor, entry.seenReservedUntil ?? 0);
    if (entry.state === LedgerEntryState.Free) return Math.max(entry.reservedUntil, this.baseFloor);
    return entry.reservedUntil;
  }
}
