// The remaining accounts of the instructions that take a variable number of them: nowhere in the IDL, so
// declared here once, in the order the handlers read them (programs/timelock/src/instructions, app-sdk/src/ix).
import { AccountRole, type AccountMeta, type Address, type Instruction, type TransactionSigner } from "@solana/kit";

import {
  gpuAddress,
  incentiveEpochAddress,
  incentivePoolAddress,
  leaseAddress,
  supplierIncentiveAddress,
  workloadAddress,
} from "./pda";

const SYSTEM_PROGRAM = "11111111111111111111111111111111" as Address;

const writable = (address: Address): AccountMeta => ({ address, role: AccountRole.WRITABLE });

/** A worker to book, by its account and its supplier's account. */
export interface WorkerRef {
  worker: Address;
  supplier: Address;
}

/** `cluster_add_workers`: one writable `(worker, supplier, lease)` triple per booking, in the order of `terms`. */
export async function bookingAccounts(cluster: Address, workers: readonly WorkerRef[]): Promise<AccountMeta[]> {
  const triples = await Promise.all(
    workers.map(async ({ worker, supplier }) => [
      writable(worker),
      writable(supplier),
      writable(await leaseAddress(cluster, worker)),
    ]),
  );
  return triples.flat();
}

/** `lease_attest`: each reported lease, writable, in the order of `reports`. */
export function attestationAccounts(leases: readonly Address[]): AccountMeta[] {
  return leases.map(writable);
}

/** `lease_settle` with the incentive pool enabled: the pool, its current epoch's record, the supplier's record
 * for that epoch, who pays for records created on the way (a signer) and the system program. */
export async function incentiveAccounts(
  supplier: Address,
  epoch: bigint | number,
  payer: TransactionSigner,
): Promise<AccountMeta[]> {
  return [
    writable(await incentivePoolAddress()),
    writable(await incentiveEpochAddress(epoch)),
    writable(await supplierIncentiveAddress(supplier, epoch)),
    { address: payer.address, role: AccountRole.WRITABLE_SIGNER, signer: payer } as AccountMeta,
    { address: SYSTEM_PROGRAM, role: AccountRole.READONLY },
  ];
}

/** `worker_bind_gpus`: the GPUs' registry records, writable, by ascending UUID hash (the order of `gpus`). */
export async function gpuRecordAccounts(uuidHashes: readonly Uint8Array[]): Promise<{
  hashes: Uint8Array[];
  accounts: AccountMeta[];
}> {
  const hashes = [...uuidHashes].sort(compareBytes);
  const accounts = await Promise.all(hashes.map(async (hash) => writable(await gpuAddress(hash))));
  return { hashes, accounts };
}

/** `cluster_close`: the cluster's workload record (closed with it when declared). */
export async function closeAccounts(cluster: Address): Promise<AccountMeta[]> {
  return [writable(await workloadAddress(cluster))];
}

/** `ix` with `accounts` appended after its declared ones. */
export function withRemaining<T extends Instruction>(ix: T, accounts: readonly AccountMeta[]): T {
  return { ...ix, accounts: [...(ix.accounts ?? []), ...accounts] };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
