// What the TypeScript client computes for a fixture the Rust SDK computed too (tests/tests/console.rs compares
// them): every PDA, the instructions with remaining accounts (booking triples, a settlement's incentive
// accounts), and events decoded from `emit_cpi!` instruction data. Run through web/test/run-ts.mjs.
import { bookingTransactions } from "../src/actions";
import {
  getClusterCreateInstruction,
  ClusterPurpose,
} from "../src/client";
import { address, createNoopSigner, isSignerRole, isWritableRole, type Address, type Instruction } from "@solana/kit";

import {
  bookingAccounts,
  clusterAddress,
  configAddress,
  decodeEventInstruction,
  deviceAddress,
  earningsVaultAddress,
  escrowAddress,
  eventAuthorityAddress,
  getClusterAddWorkersInstruction,
  getLeaseSettleInstruction,
  gpuAddress,
  incentiveAccounts,
  incentiveEpochAddress,
  incentivePoolAddress,
  incentiveVaultAddress,
  leaseAddress,
  stakeVaultAddress,
  supplierAddress,
  supplierIncentiveAddress,
  TIMELOCK_PROGRAM_ADDRESS,
  withRemaining,
  workerAddress,
  workloadAddress,
} from "../src/client";

interface Booking {
  worker: string;
  supplier: string;
  max_price: string;
  gpu_model: number;
  gpu_count: number;
  vram_gib: number;
  region: string;
  compliance: number;
}

interface Fixture {
  renter: string;
  authority: string;
  cluster_id: string;
  worker_index: number;
  device_key: string;
  gpu_hash: string;
  epoch: string;
  payment_mint: string;
  renter_tokens: string;
  token_program: string;
  bookings: Booking[];
  many_bookings: Booking[];
  settle: Record<string, string>;
  events: string[];
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => Uint8Array.from(text.match(/../g)!.map((b) => parseInt(b, 16)));
const instruction = (ix: Instruction) => ({ program: ix.programAddress, keys: keys(ix), data: hex(ix.data as Uint8Array) });
const keys = (ix: Instruction) =>
  (ix.accounts ?? []).map((a) => ({ pubkey: a.address, is_signer: isSignerRole(a.role), is_writable: isWritableRole(a.role) }));
const plain = (value: unknown): unknown =>
  typeof value === "bigint"
    ? value.toString()
    : value instanceof Uint8Array
      ? hex(value)
      : Array.isArray(value)
        ? value.map(plain)
        : value && typeof value === "object"
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
          : value;

export async function run(fixture: Fixture) {
  const a = (s: string) => address(s) as Address;
  const renter = a(fixture.renter);
  const supplier = await supplierAddress(a(fixture.authority));
  const cluster = await clusterAddress(renter, BigInt(fixture.cluster_id));
  const worker = await workerAddress(supplier, fixture.worker_index);
  const pdas = {
    config: await configAddress(),
    stake_vault: await stakeVaultAddress(),
    event_authority: await eventAuthorityAddress(),
    supplier,
    worker,
    earnings_vault: await earningsVaultAddress(supplier),
    cluster,
    escrow: await escrowAddress(cluster),
    lease: await leaseAddress(cluster, worker),
    device: await deviceAddress(a(fixture.device_key)),
    gpu: await gpuAddress(unhex(fixture.gpu_hash)),
    workload: await workloadAddress(cluster),
    incentive_pool: await incentivePoolAddress(),
    incentive_vault: await incentiveVaultAddress(),
    incentive_epoch: await incentiveEpochAddress(BigInt(fixture.epoch)),
    supplier_incentive: await supplierIncentiveAddress(supplier, BigInt(fixture.epoch)),
  };
  const common = { config: pdas.config, eventAuthority: pdas.event_authority, program: TIMELOCK_PROGRAM_ADDRESS };
  const payment = {
    ...common,
    renter: createNoopSigner(renter),
    cluster,
    escrow: pdas.escrow,
    paymentMint: a(fixture.payment_mint),
    renterTokens: a(fixture.renter_tokens),
    tokenProgram: a(fixture.token_program),
  };
  const addWorkers = async (bookings: Booking[]) => {
    const remaining = await bookingAccounts(cluster, bookings.map((b) => ({ worker: a(b.worker), supplier: a(b.supplier) })));
    const terms = bookings.map((b) => ({
      maxPricePerGpuHour: BigInt(b.max_price),
      gpuModel: b.gpu_model,
      gpuCount: b.gpu_count,
      vramGib: b.vram_gib,
      region: unhex(b.region),
      compliance: b.compliance,
    }));
    return (count: number, offset: number) =>
      withRemaining(
        getClusterAddWorkersInstruction({ ...payment, terms: terms.slice(offset, offset + count) }),
        remaining.slice(offset * 3, (offset + count) * 3),
      );
  };
  const book = (await addWorkers(fixture.bookings))(fixture.bookings.length, 0);
  const create = getClusterCreateInstruction({ ...payment, clusterId: BigInt(fixture.cluster_id), hours: 3, purpose: ClusterPurpose.Containers });
  const many = bookingTransactions(renter, create, await addWorkers(fixture.many_bookings), fixture.many_bookings.length);
  const s = fixture.settle;
  const settleCluster = await clusterAddress(a(s.renter), BigInt(fixture.cluster_id));
  const settle = withRemaining(
    getLeaseSettleInstruction({
      ...common,
      lease: await leaseAddress(settleCluster, a(s.worker)),
      cluster: settleCluster,
      worker: a(s.worker),
      supplier: a(s.supplier),
      escrow: await escrowAddress(settleCluster),
      earningsVault: await earningsVaultAddress(a(s.supplier)),
      treasuryPaymentTokens: a(s.treasury_payment_tokens),
      renterPaymentTokens: a(s.renter_payment_tokens),
      stakeVault: pdas.stake_vault,
      renterStakeTokens: a(s.renter_stake_tokens),
      treasuryStakeTokens: a(s.treasury_stake_tokens),
      paymentMint: a(s.payment_mint),
      stakeMint: a(s.stake_mint),
      renter: a(s.renter),
      paymentTokenProgram: a(s.payment_token_program),
      stakeTokenProgram: a(s.stake_token_program),
    }),
    await incentiveAccounts(a(s.supplier), BigInt(fixture.epoch), createNoopSigner(a(s.payer))),
  );
  return {
    pdas,
    cluster_add_workers: { keys: keys(book), data: hex(book.data as Uint8Array) },
    lease_settle: { keys: keys(settle), data: hex(settle.data as Uint8Array) },
    events: fixture.events.map((e) => plain(decodeEventInstruction(unhex(e)))),
    booking_transactions: many.map((tx) => tx.map(instruction)),
  };
}
