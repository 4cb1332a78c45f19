// The chain as the browser sees it: a small JSON-RPC client (the RPC URL comes from /v1/console-config),
// account reads through the generated decoders, and transactions signed by a Wallet Standard wallet.
import {
  AccountRole,
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getAddressEncoder,
  getBase58Decoder,
  getBase64Decoder,
  getBase64Encoder,
  getProgramDerivedAddress,
  getTransactionDecoder,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Blockhash,
  type Instruction,
  type TransactionSigner,
} from "@solana/kit";

import { getTimelockErrorMessage, type TimelockError } from "./client/generated/errors";
import { getConfigDecoder, type Config } from "./client/generated/accounts/config";
import { configAddress } from "./client/pda";
import type { ConsoleConfig } from "./api";

/** Solana's packet limit: a transaction's wire size may not exceed it. */
export const MAX_TRANSACTION_BYTES = 1232;
const ATA_PROGRAM = address("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const SYSTEM_PROGRAM = address("11111111111111111111111111111111");

export class Chain {
  private nextId = 1;
  constructor(readonly settings: ConsoleConfig) {}

  async call<T>(method: string, params: unknown[]): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.settings.rpc_url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
      });
    } catch (e) {
      throw new Error(`the Solana RPC at ${this.settings.rpc_url} cannot be reached (${(e as Error).message})`);
    }
    const body = await response.json();
    if (body.error) throw new RpcError(body.error.message, body.error.data);
    return body.result as T;
  }

  /** An account's data and owner, or null when it does not exist. */
  async account(at: Address | string): Promise<{ data: Uint8Array; owner: string } | null> {
    const info = await this.call<{ value: { data: [string, string]; owner: string } | null }>("getAccountInfo", [
      at,
      { encoding: "base64", commitment: "confirmed" },
    ]);
    if (!info.value) return null;
    return { data: new Uint8Array(getBase64Encoder().encode(info.value.data[0])), owner: info.value.owner };
  }

  async decoded<T>(at: Address | string, decoder: { decode(bytes: Uint8Array): T }): Promise<T | null> {
    const account = await this.account(at);
    return account ? decoder.decode(account.data) : null;
  }

  private config?: Promise<Config>;
  /** The program's config (mints, their decimals, treasury, parameters): read once. */
  programConfig(): Promise<Config> {
    this.config ??= (async () => {
      const config = await this.decoded(await configAddress(), getConfigDecoder());
      if (!config) throw new Error("the timelock program has no config on this chain");
      return config;
    })();
    this.config.catch(() => (this.config = undefined));
    return this.config;
  }

  /** The token program that owns `mint` (SPL Token or Token-2022). */
  async tokenProgram(mint: Address): Promise<Address> {
    const account = await this.account(mint);
    if (!account) throw new Error(`mint ${mint} does not exist`);
    return address(account.owner);
  }

  /** A token account's balance in base units (0 when it does not exist). SPL Token's layout: mint, owner, then
   * the amount, a little-endian u64 at byte 64 (Token-2022 shares it). */
  async tokenBalance(tokenAccount: Address): Promise<bigint> {
    const account = await this.account(tokenAccount);
    if (!account || account.data.length < 72) return 0n;
    return new DataView(account.data.buffer, account.data.byteOffset).getBigUint64(64, true);
  }

  async now(): Promise<number> {
    const slot = await this.call<number>("getSlot", [{ commitment: "confirmed" }]);
    return this.call<number>("getBlockTime", [slot]);
  }

  /** Compiles `instructions` paid by `payer` with a fresh blockhash: the wire bytes a wallet signs. */
  async compile(payer: Address, instructions: readonly Instruction[]): Promise<Uint8Array> {
    const { value } = await this.call<{ value: { blockhash: string; lastValidBlockHeight: number } }>(
      "getLatestBlockhash",
      [{ commitment: "confirmed" }],
    );
    const lifetime = { blockhash: value.blockhash as Blockhash, lastValidBlockHeight: BigInt(value.lastValidBlockHeight) };
    return wire(payer, lifetime, instructions);
  }

  /** Sends signed wire bytes and waits until the transaction is confirmed; a failure names the program's error. */
  async sendAndConfirm(signed: Uint8Array, timeoutMs = 60_000): Promise<string> {
    const transaction = getTransactionDecoder().decode(signed);
    const firstSignature = Object.values(transaction.signatures)[0];
    if (!firstSignature) throw new Error("the wallet returned an unsigned transaction");
    const signature = getBase58Decoder().decode(firstSignature);
    await this.call("sendTransaction", [
      getBase64Decoder().decode(signed),
      { encoding: "base64", preflightCommitment: "confirmed" },
    ]);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { value } = await this.call<{ value: ({ err: unknown; confirmationStatus: string } | null)[] }>(
        "getSignatureStatuses",
        [[signature]],
      );
      const status = value[0];
      if (status?.err) throw new RpcError("the transaction failed", { err: status.err });
      if (status && status.confirmationStatus !== "processed") return signature;
      await new Promise((r) => setTimeout(r, 400));
    }
    throw new Error(`transaction ${signature} was not confirmed within ${timeoutMs / 1000} s`);
  }
}

/** The wire bytes of an unsigned transaction: what the size limit applies to (signatures included, zeroed). */
export function wire(
  payer: Address,
  lifetime: { blockhash: Blockhash; lastValidBlockHeight: bigint },
  instructions: readonly Instruction[],
): Uint8Array {
  const message = pipe(
    // Legacy messages: what the Rust SDK sizes its batches by (`batch::transaction_size`), and every wallet signs.
    createTransactionMessage({ version: "legacy" }),
    (m) => setTransactionMessageFeePayer(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  return new Uint8Array(getTransactionEncoder().encode(compileTransaction(message)));
}

/** A JSON-RPC error, with the program's own message when the failure is one of its errors. */
export class RpcError extends Error {
  constructor(message: string, data?: unknown) {
    super(explain(message, data));
  }
}

function explain(message: string, data: unknown): string {
  // Anchor logs every error it returns, the framework's as well as the program's, with the account at fault.
  const logs = (data as { logs?: string[] } | undefined)?.logs ?? [];
  const anchor = logs.find((l) => l.includes("Error Message:"));
  if (anchor) {
    const text = anchor.split("Error Message:")[1].trim().replace(/\.$/, "");
    const account = anchor.match(/caused by account: (\w+)/)?.[1];
    const code = anchor.match(/Error Code: (\w+)/)?.[1];
    return `${text}${account ? ` (account ${account})` : ""}${code ? ` [${code}]` : ""}`;
  }
  const err = (data as { err?: unknown } | undefined)?.err;
  const custom = (err as { InstructionError?: [number, { Custom?: number }] } | undefined)?.InstructionError?.[1]
    ?.Custom;
  if (typeof custom === "number") {
    const text = process.env.NODE_ENV === "production" ? "" : getTimelockErrorMessage(custom as TimelockError);
    return `${message}: program error ${custom}${text ? ` (${text})` : ""}`;
  }
  const last = logs.filter((l) => !l.startsWith("Program log: Instruction")).at(-1);
  return last ? `${message}: ${last}` : message;
}

/** `owner`'s associated token account of `mint`. */
export async function ata(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const encode = getAddressEncoder().encode;
  const [at] = await getProgramDerivedAddress({
    programAddress: ATA_PROGRAM,
    seeds: [encode(owner), encode(tokenProgram), encode(mint)],
  });
  return at;
}

/** The Associated Token program's `CreateIdempotent`: `owner`'s account of `mint`, paid by `payer`. */
export async function createAtaIdempotent(
  payer: Address,
  owner: Address,
  mint: Address,
  tokenProgram: Address,
): Promise<Instruction> {
  return {
    programAddress: ATA_PROGRAM,
    accounts: [
      { address: payer, role: AccountRole.WRITABLE_SIGNER },
      { address: await ata(owner, mint, tokenProgram), role: AccountRole.WRITABLE },
      { address: owner, role: AccountRole.READONLY },
      { address: mint, role: AccountRole.READONLY },
      { address: SYSTEM_PROGRAM, role: AccountRole.READONLY },
      { address: tokenProgram, role: AccountRole.READONLY },
    ],
    data: new Uint8Array([1]),
  };
}

const COMPUTE_BUDGET_PROGRAM = address("ComputeBudget111111111111111111111111111111");

/** The Compute Budget program's `SetComputeUnitLimit`. */
export function computeUnitLimit(units: number): Instruction {
  const data = new Uint8Array(5);
  data[0] = 2;
  new DataView(data.buffer).setUint32(1, units, true);
  return { programAddress: COMPUTE_BUDGET_PROGRAM, data };
}

/** A signer for the generated builders, which only need its address: the wallet signs the whole transaction. */
export const signerOf = (owner: Address): TransactionSigner => createNoopSigner(owner);
