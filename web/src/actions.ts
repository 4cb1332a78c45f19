// What the console asks a wallet to sign: the program's instructions built with the generated client, the
// accounts it cannot derive from the IDL filled in by the hand-written helpers, packed into as few transactions
// as fit.
import { address, type Address, type Blockhash, type Instruction } from "@solana/kit";

import type { Connected } from "./wallet";
import { Chain, ata, computeUnitLimit, createAtaIdempotent, signerOf, wire, MAX_TRANSACTION_BYTES } from "./chain";
import type { WorkerView } from "./api";
import { getWorkerDecoder } from "./client/generated/accounts/worker";
import { getLeaseDecoder } from "./client/generated/accounts/lease";
import { getIncentivePoolDecoder } from "./client/generated/accounts/incentivePool";
import {
  getClusterAddWorkersInstruction,
  getClusterCloseInstruction,
  getClusterCreateInstruction,
  getClusterEndInstruction,
  getClusterExtendInstruction,
  getClusterRemoveWorkerInstruction,
  getEarningsClaimInstruction,
  getLeaseDisputeInstruction,
  getLeaseSettleInstruction,
  getStakeDepositInstruction,
  getStakeUnbondInstruction,
  getStakeWithdrawInstruction,
  getWorkerSetAvailableInstruction,
  getWorkerUnjailInstruction,
} from "./client/generated/instructions";
import { TIMELOCK_PROGRAM_ADDRESS } from "./client/generated/programs";
import { ClusterPurpose, type BookingTermsArgs } from "./client/generated/types";
import {
  clusterAddress,
  configAddress,
  earningsVaultAddress,
  escrowAddress,
  eventAuthorityAddress,
  incentivePoolAddress,
  leaseAddress,
  stakeVaultAddress,
  supplierAddress,
  workerAddress,
} from "./client/pda";
import { bookingAccounts, closeAccounts, incentiveAccounts, withRemaining } from "./client/remaining";
import { tokens } from "./format";

export type Progress = (text: string) => void;

/** Signs and sends each transaction in turn, saying where it is; the signatures. */
export async function sendAll(
  chain: Chain,
  wallet: Connected,
  transactions: Instruction[][],
  progress: Progress,
): Promise<string[]> {
  const signatures = [];
  for (const [i, instructions] of transactions.entries()) {
    const of = transactions.length > 1 ? ` ${i + 1} of ${transactions.length}` : "";
    progress(`Transaction${of}: waiting for the wallet…`);
    const unsigned = await chain.compile(wallet.address, instructions);
    const signed = await wallet.sign(unsigned);
    progress(`Transaction${of}: confirming…`);
    signatures.push(await chain.sendAndConfirm(signed));
  }
  return signatures;
}

/** The accounts every instruction names (the IDL may derive them; passing them works either way). */
async function common() {
  return {
    config: await configAddress(),
    eventAuthority: await eventAuthorityAddress(),
    program: TIMELOCK_PROGRAM_ADDRESS,
  };
}

/** What booking `workers` for `hours` puts into escrow: price × GPUs × hours each, exactly as the program. */
export const escrowTotal = (workers: readonly WorkerView[], hours: number) =>
  workers.reduce((sum, w) => sum + BigInt(w.price_per_gpu_hour) * BigInt(w.gpu_count) * BigInt(hours), 0n);

/** Compute units a transaction asks for: a base and a bound per booked worker, as the Rust SDK's batches
 * (`app-sdk/src/batch.rs`: `BASE_CU`, `BOOKING_CU_PER_WORKER`, `MAX_COMPUTE_UNITS`). */
const BASE_CU = 40_000;
const BOOKING_CU_PER_WORKER = 40_000;
const MAX_COMPUTE_UNITS = 1_400_000;

/** The transactions of a booking: `cluster_create` in the first, then as many workers per transaction as fit
 * both the packet and the compute budget, each transaction with its compute-unit limit first. `add(count,
 * offset)` is `cluster_add_workers` for that slice of the bookings. */
export function bookingTransactions(
  payer: Address,
  create: Instruction,
  add: (count: number, offset: number) => Instruction,
  total: number,
): Instruction[][] {
  const lifetime = { blockhash: "11111111111111111111111111111111" as Blockhash, lastValidBlockHeight: 0n };
  const transaction = (first: boolean, count: number, offset: number) => {
    const units = BASE_CU + BOOKING_CU_PER_WORKER * (count + (first ? 1 : 0));
    return [computeUnitLimit(units), ...(first ? [create] : []), add(count, offset)];
  };
  const fits = (first: boolean, count: number, offset: number) =>
    BASE_CU + BOOKING_CU_PER_WORKER * (count + (first ? 1 : 0)) <= MAX_COMPUTE_UNITS &&
    wire(payer, lifetime, transaction(first, count, offset)).length <= MAX_TRANSACTION_BYTES;
  const transactions: Instruction[][] = [];
  for (let offset = 0; offset < total; ) {
    const first = transactions.length === 0;
    if (!fits(first, 1, offset)) throw new Error("one booking does not fit in a transaction");
    let count = 1;
    while (offset + count < total && fits(first, count + 1, offset)) count++;
    transactions.push(transaction(first, count, offset));
    offset += count;
  }
  return transactions;
}

/** Books `workers` into a new cluster for `hours`: `cluster_create` and `cluster_add_workers` in as few
 * transactions as fit. Each worker is booked on the terms the renter saw (price, GPUs, VRAM, region,
 * compliance): the program refuses one changed since. */
export async function book(
  chain: Chain,
  wallet: Connected,
  workers: readonly WorkerView[],
  hours: number,
  progress: Progress,
): Promise<{ cluster: Address; clusterId: bigint; signatures: string[] }> {
  if (workers.length === 0) throw new Error("pick at least one worker");
  if (!Number.isInteger(hours) || hours < 1) throw new Error("hours must be a whole number of at least 1");
  const config = await chain.programConfig();
  const renter = wallet.address;
  const tokenProgram = await chain.tokenProgram(config.paymentMint);
  const renterTokens = await ata(renter, config.paymentMint, tokenProgram);
  const total = escrowTotal(workers, hours);
  const balance = await chain.tokenBalance(renterTokens);
  if (balance < total) {
    const d = config.paymentDecimals;
    throw new Error(`the escrow needs ${tokens(total, d)} but the wallet holds ${tokens(balance, d)}`);
  }
  progress("Reading the workers' terms…");
  const onChain = await Promise.all(workers.map((w) => chain.decoded(w.address, getWorkerDecoder())));
  const terms: BookingTermsArgs[] = workers.map((w, i) => {
    const worker = onChain[i];
    if (!worker) throw new Error(`worker ${w.address} is gone`);
    return {
      maxPricePerGpuHour: BigInt(w.price_per_gpu_hour),
      gpuModel: worker.spec.gpuModel,
      gpuCount: w.gpu_count,
      vramGib: w.vram_gib,
      region: worker.spec.region,
      compliance: w.compliance,
    };
  });
  const clusterId = BigInt(Date.now());
  const cluster = await clusterAddress(renter, clusterId);
  const escrow = await escrowAddress(cluster);
  const accounts = { ...(await common()), renter: signerOf(renter), cluster, escrow, paymentMint: config.paymentMint, tokenProgram };
  const create = getClusterCreateInstruction({ ...accounts, clusterId, hours, purpose: ClusterPurpose.Containers });
  const refs = workers.map((w) => ({ worker: address(w.address), supplier: address(w.supplier) }));
  const remaining = await bookingAccounts(cluster, refs);
  const add = (count: number, offset: number) =>
    withRemaining(
      getClusterAddWorkersInstruction({ ...accounts, renterTokens, terms: terms.slice(offset, offset + count) }),
      remaining.slice(offset * 3, (offset + count) * 3),
    );
  const transactions = bookingTransactions(renter, create, add, workers.length);
  const signatures = await sendAll(chain, wallet, transactions, progress);
  return { cluster, clusterId, signatures };
}

async function renterPayment(chain: Chain, renter: Address, clusterId: bigint) {
  const config = await chain.programConfig();
  const tokenProgram = await chain.tokenProgram(config.paymentMint);
  const cluster = await clusterAddress(renter, clusterId);
  return {
    ...(await common()),
    renter: signerOf(renter),
    cluster,
    escrow: await escrowAddress(cluster),
    paymentMint: config.paymentMint,
    renterTokens: await ata(renter, config.paymentMint, tokenProgram),
    tokenProgram,
  };
}

export async function extend(chain: Chain, wallet: Connected, clusterId: bigint, hours: number, progress: Progress) {
  if (!Number.isInteger(hours) || hours < 1) throw new Error("hours must be a whole number of at least 1");
  const ix = getClusterExtendInstruction({ ...(await renterPayment(chain, wallet.address, clusterId)), hours });
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function removeWorker(chain: Chain, wallet: Connected, clusterId: bigint, worker: Address, progress: Progress) {
  const cluster = await clusterAddress(wallet.address, clusterId);
  const { eventAuthority, program } = await common();
  const ix = getClusterRemoveWorkerInstruction({
    renter: signerOf(wallet.address),
    cluster,
    lease: await leaseAddress(cluster, worker),
    eventAuthority,
    program,
  });
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function endCluster(chain: Chain, wallet: Connected, clusterId: bigint, progress: Progress) {
  const { eventAuthority, program } = await common();
  const ix = getClusterEndInstruction({
    renter: signerOf(wallet.address),
    cluster: await clusterAddress(wallet.address, clusterId),
    eventAuthority,
    program,
  });
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function closeCluster(chain: Chain, wallet: Connected, clusterId: bigint, progress: Progress) {
  const p = await renterPayment(chain, wallet.address, clusterId);
  const ix = withRemaining(getClusterCloseInstruction(p), await closeAccounts(p.cluster));
  return sendAll(chain, wallet, [[ix]], progress);
}

/** A dispute of the lease's totals by the connected wallet (its renter or its supplier's authority). */
export async function dispute(chain: Chain, wallet: Connected, renter: Address, clusterId: bigint, lease: Address, progress: Progress) {
  const l = await chain.decoded(lease, getLeaseDecoder());
  if (!l) throw new Error(`lease ${lease} is gone`);
  const p = await renterPayment(chain, renter, clusterId);
  const ix = getLeaseDisputeInstruction({
    ...p,
    disputer: signerOf(wallet.address),
    lease,
    supplier: l.supplier,
    disputerTokens: await ata(wallet.address, p.paymentMint, p.tokenProgram),
  });
  return sendAll(chain, wallet, [[ix]], progress);
}

/** Settles a lease (anyone may): pays final seconds, slashes final faults, refunds once the lease is over. The
 * parties' token accounts are created first when missing. */
export async function settle(chain: Chain, wallet: Connected, renter: Address, clusterId: bigint, lease: Address, progress: Progress) {
  const l = await chain.decoded(lease, getLeaseDecoder());
  if (!l) throw new Error(`lease ${lease} is gone (settled and closed)`);
  const config = await chain.programConfig();
  const [payProgram, stakeProgram] = await Promise.all([
    chain.tokenProgram(config.paymentMint),
    chain.tokenProgram(config.stakeMint),
  ]);
  const treasury = config.params.treasury;
  const me = wallet.address;
  const cluster = await clusterAddress(renter, clusterId);
  const creates = await Promise.all([
    createAtaIdempotent(me, renter, config.paymentMint, payProgram),
    createAtaIdempotent(me, renter, config.stakeMint, stakeProgram),
    createAtaIdempotent(me, treasury, config.paymentMint, payProgram),
    createAtaIdempotent(me, treasury, config.stakeMint, stakeProgram),
  ]);
  let ix: Instruction = getLeaseSettleInstruction({
    ...(await common()),
    lease,
    cluster,
    worker: l.worker,
    supplier: l.supplier,
    escrow: await escrowAddress(cluster),
    earningsVault: await earningsVaultAddress(l.supplier),
    treasuryPaymentTokens: await ata(treasury, config.paymentMint, payProgram),
    renterPaymentTokens: await ata(renter, config.paymentMint, payProgram),
    stakeVault: await stakeVaultAddress(),
    renterStakeTokens: await ata(renter, config.stakeMint, stakeProgram),
    treasuryStakeTokens: await ata(treasury, config.stakeMint, stakeProgram),
    paymentMint: config.paymentMint,
    stakeMint: config.stakeMint,
    renter,
    paymentTokenProgram: payProgram,
    stakeTokenProgram: stakeProgram,
  });
  if (config.incentivesEnabled) {
    const pool = await chain.decoded(await incentivePoolAddress(), getIncentivePoolDecoder());
    if (!pool) throw new Error("the incentive pool is enabled but missing");
    // `IncentivePool::epoch_at`.
    const now = BigInt(await chain.now());
    const epoch = now > pool.genesisTs ? (now - pool.genesisTs) / pool.emissionEpochSecs : 0n;
    ix = withRemaining(ix, await incentiveAccounts(l.supplier, epoch, signerOf(me)));
  }
  return sendAll(chain, wallet, [[...creates, ix]], progress);
}

async function stakeAccounts(chain: Chain, authority: Address) {
  const config = await chain.programConfig();
  const tokenProgram = await chain.tokenProgram(config.stakeMint);
  return {
    ...(await common()),
    authority: signerOf(authority),
    supplier: await supplierAddress(authority),
    stakeMint: config.stakeMint,
    supplierTokens: await ata(authority, config.stakeMint, tokenProgram),
    stakeVault: await stakeVaultAddress(),
    tokenProgram,
  };
}

export async function stakeDeposit(chain: Chain, wallet: Connected, amount: bigint, progress: Progress) {
  if (amount <= 0n) throw new Error("the amount must be more than 0");
  const ix = getStakeDepositInstruction({ ...(await stakeAccounts(chain, wallet.address)), amount });
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function stakeWithdraw(chain: Chain, wallet: Connected, progress: Progress) {
  const ix = getStakeWithdrawInstruction(await stakeAccounts(chain, wallet.address));
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function stakeUnbond(chain: Chain, wallet: Connected, amount: bigint, progress: Progress) {
  if (amount <= 0n) throw new Error("the amount must be more than 0");
  const ix = getStakeUnbondInstruction({
    ...(await common()),
    authority: signerOf(wallet.address),
    supplier: await supplierAddress(wallet.address),
    amount,
  });
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function claimEarnings(chain: Chain, wallet: Connected, progress: Progress) {
  const config = await chain.programConfig();
  const me = wallet.address;
  const tokenProgram = await chain.tokenProgram(config.paymentMint);
  const supplier = await supplierAddress(me);
  const ix = getEarningsClaimInstruction({
    ...(await common()),
    authority: signerOf(me),
    supplier,
    earningsVault: await earningsVaultAddress(supplier),
    paymentMint: config.paymentMint,
    destination: await ata(me, config.paymentMint, tokenProgram),
    tokenProgram,
  });
  const create = await createAtaIdempotent(me, me, config.paymentMint, tokenProgram);
  return sendAll(chain, wallet, [[create, ix]], progress);
}

async function workerManage(wallet: Connected, workerIndex: number) {
  const supplier = await supplierAddress(wallet.address);
  return {
    ...(await common()),
    authority: signerOf(wallet.address),
    supplier,
    worker: await workerAddress(supplier, workerIndex),
  };
}

export async function setAvailable(chain: Chain, wallet: Connected, workerIndex: number, available: boolean, progress: Progress) {
  const ix = getWorkerSetAvailableInstruction({ ...(await workerManage(wallet, workerIndex)), available });
  return sendAll(chain, wallet, [[ix]], progress);
}

export async function unjail(chain: Chain, wallet: Connected, workerIndex: number, progress: Progress) {
  const ix = getWorkerUnjailInstruction(await workerManage(wallet, workerIndex));
  return sendAll(chain, wallet, [[ix]], progress);
}
