// The program's addresses that the IDL does not derive for a client (the lease, the event authority, devices,
// GPU records, incentive epochs) and those it does, under one set of names. Seeds as in
// programs/timelock/src/constants.rs (`*_SEED`) and app-sdk/src/pda.rs.
import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getU32Encoder,
  getU64Encoder,
  type Address,
  type ReadonlyUint8Array,
} from "@solana/kit";

import { TIMELOCK_PROGRAM_ADDRESS } from "./generated/programs";

const text = (seed: string) => new TextEncoder().encode(seed);
const key = (address: Address) => getAddressEncoder().encode(address);
const u32 = (n: number) => getU32Encoder().encode(n);
const u64 = (n: bigint | number) => getU64Encoder().encode(n);

async function derive(seeds: (string | ReadonlyUint8Array)[]): Promise<Address> {
  const [address] = await getProgramDerivedAddress({
    programAddress: TIMELOCK_PROGRAM_ADDRESS,
    seeds: seeds.map((s) => (typeof s === "string" ? text(s) : s)),
  });
  return address;
}

export const configAddress = () => derive(["config"]);
/** The stake vault is derived from the config's address too (`timelock::pda::STAKE_VAULT`). */
export const stakeVaultAddress = async () => derive(["stake_vault", key(await configAddress())]);
/** Signs the program's `emit_cpi!` self-invocations; every instruction takes it. */
export const eventAuthorityAddress = () => derive(["__event_authority"]);
export const supplierAddress = (authority: Address) => derive(["supplier", key(authority)]);
export const workerAddress = (supplier: Address, workerIndex: number) =>
  derive(["worker", key(supplier), u32(workerIndex)]);
export const earningsVaultAddress = (supplier: Address) => derive(["earnings", key(supplier)]);
export const clusterAddress = (renter: Address, clusterId: bigint | number) =>
  derive(["cluster", key(renter), u64(clusterId)]);
export const escrowAddress = (cluster: Address) => derive(["escrow", key(cluster)]);
export const leaseAddress = (cluster: Address, worker: Address) => derive(["lease", key(cluster), key(worker)]);
/** The record of the worker a device key backs. */
export const deviceAddress = (deviceKey: Address) => derive(["device", key(deviceKey)]);
/** The registry record of a GPU, by the SHA-256 of its UUID (`Gpu::uuid_hash`). */
export const gpuAddress = (uuidHash: ReadonlyUint8Array) => derive(["gpu", uuidHash]);
/** What the renter allows to run on a cluster's GPUs. */
export const workloadAddress = (cluster: Address) => derive(["workload", key(cluster)]);
export const incentivePoolAddress = () => derive(["incentive_pool"]);
export const incentiveVaultAddress = () => derive(["incentive_vault"]);
export const incentiveEpochAddress = (epoch: bigint | number) => derive(["incentive_epoch", u64(epoch)]);
export const supplierIncentiveAddress = (supplier: Address, epoch: bigint | number) =>
  derive(["supplier_incentive", key(supplier), u64(epoch)]);
