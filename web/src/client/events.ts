// Reading the program's events. They are emitted by self-CPI (`emit_cpi!`), not in logs, so Anchor's
// EventParser finds none: each is an inner instruction to the program whose data is Anchor's event tag, the
// event's discriminator and its fields.
import { getBase58Encoder, getBase64Encoder, type Address, type ReadonlyUint8Array } from "@solana/kit";

import { TIMELOCK_EVENTS, type TimelockEvent } from "./generated/events";
import { TIMELOCK_PROGRAM_ADDRESS } from "./generated/programs";

export type { TimelockEvent };

/** `anchor_lang::event::EVENT_IX_TAG_LE`: the first 8 bytes of every `emit_cpi!` instruction. */
const EVENT_IX_TAG = "e445a52e51cb9a1d";

const hex = (bytes: ReadonlyUint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The event in an event's bytes (its discriminator then its fields); `null` when it is none of the program's. */
export function decodeEvent(bytes: ReadonlyUint8Array): TimelockEvent | null {
  const discriminator = hex(bytes.slice(0, 8));
  const entry = TIMELOCK_EVENTS.find((e) => e.discriminator === discriminator);
  return entry ? ({ name: entry.name, data: entry.decoder.decode(bytes) } as TimelockEvent) : null;
}

/** The event an instruction's data carries, when it is one of the program's self-CPI event instructions. */
export function decodeEventInstruction(data: ReadonlyUint8Array): TimelockEvent | null {
  if (data.length < 16 || hex(data.slice(0, 8)) !== EVENT_IX_TAG) return null;
  return decodeEvent(data.slice(8));
}

/** The subset of `getTransaction`'s answer (`encoding: "json"`) that events are read from. */
export interface TransactionWithMeta {
  transaction: { message: { accountKeys: readonly string[] } };
  meta: {
    innerInstructions?: readonly {
      instructions: readonly { programIdIndex: number; data: string }[];
    }[] | null;
    loadedAddresses?: { writable: readonly string[]; readonly: readonly string[] } | null;
  } | null;
}

/** Every event of the program in a transaction, in the order emitted. */
export function eventsOfTransaction(
  tx: TransactionWithMeta,
  program: Address = TIMELOCK_PROGRAM_ADDRESS,
): TimelockEvent[] {
  const loaded = tx.meta?.loadedAddresses;
  const keys = [...tx.transaction.message.accountKeys, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
  const base58 = getBase58Encoder();
  const events: TimelockEvent[] = [];
  for (const inner of tx.meta?.innerInstructions ?? []) {
    for (const ix of inner.instructions) {
      if (keys[ix.programIdIndex] !== program) continue;
      const event = decodeEventInstruction(base58.encode(ix.data));
      if (event) events.push(event);
    }
  }
  return events;
}

/** `decodeEvent` of base64 text (as indexers and logs often carry event data). */
export const decodeEventBase64 = (data: string) => decodeEvent(getBase64Encoder().encode(data));
