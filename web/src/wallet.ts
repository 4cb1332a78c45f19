// Wallets through the Wallet Standard (Phantom, Solflare, Backpack and any other): discovered, never named.
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import type { Address } from "@solana/kit";
import { useEffect, useState, useSyncExternalStore } from "react";

const CONNECT = "standard:connect";
const DISCONNECT = "standard:disconnect";
const SIGN_TRANSACTION = "solana:signTransaction";
const EVENTS = "standard:events";

interface ConnectFeature {
  connect(input?: { silent?: boolean }): Promise<{ accounts: readonly WalletAccount[] }>;
}
interface SignTransactionFeature {
  signTransaction(
    ...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]
  ): Promise<readonly { signedTransaction: Uint8Array }[]>;
}

/** Wallets that can connect and sign Solana transactions. */
const usable = (wallet: Wallet) =>
  CONNECT in wallet.features &&
  SIGN_TRANSACTION in wallet.features &&
  wallet.chains.some((chain) => chain.startsWith("solana:"));

const registry = getWallets();
let snapshot: readonly Wallet[] = registry.get().filter(usable);
const listeners = new Set<() => void>();
const refresh = () => {
  snapshot = registry.get().filter(usable);
  listeners.forEach((l) => l());
};
registry.on("register", refresh);
registry.on("unregister", refresh);

export function useWallets(): readonly Wallet[] {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => snapshot,
  );
}

/** The connected account and how to sign with it. */
export interface Connected {
  wallet: Wallet;
  account: WalletAccount;
  address: Address;
  /** Signs transaction wire bytes; the wallet may refuse (the promise rejects with its reason). */
  sign(transaction: Uint8Array): Promise<Uint8Array>;
}

let current: Connected | null = null;
let unsubscribe: (() => void) | null = null;
const connectionListeners = new Set<() => void>();
const setCurrent = (value: Connected | null) => {
  current = value;
  connectionListeners.forEach((l) => l());
};

interface EventsFeature {
  on(event: "change", listener: (properties: { accounts?: readonly WalletAccount[] }) => void): () => void;
}

export function useConnection(): Connected | null {
  return useSyncExternalStore(
    (listener) => {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    () => current,
  );
}

export async function connect(wallet: Wallet, cluster: string): Promise<Connected> {
  const { accounts } = await (wallet.features[CONNECT] as ConnectFeature).connect();
  const account = accounts.find((a) => a.chains.some((c) => c.startsWith("solana:"))) ?? accounts[0];
  if (!account) throw new Error(`${wallet.name} gave no account`);
  const connected = connection(wallet, account, cluster);
  // The user may switch accounts or disconnect in the wallet itself: follow it.
  unsubscribe?.();
  unsubscribe =
    (wallet.features[EVENTS] as EventsFeature | undefined)?.on("change", ({ accounts }) => {
      if (!accounts || current?.wallet !== wallet) return;
      const next = accounts.find((a) => a.chains.some((c) => c.startsWith("solana:")));
      if (!next) setCurrent(null);
      else if (next.address !== current.address) setCurrent(connection(wallet, next, cluster));
    }) ?? null;
  setCurrent(connected);
  return connected;
}

function connection(wallet: Wallet, account: WalletAccount, cluster: string): Connected {
  const chain = `solana:${cluster}`;
  return {
    wallet,
    account,
    // Wallet Standard accounts carry base58 addresses; no runtime check (and no codec) is needed to type one.
    address: account.address as Address,
    async sign(transaction) {
      const feature = wallet.features[SIGN_TRANSACTION] as SignTransactionFeature;
      const [signed] = await feature.signTransaction({ account, transaction, chain });
      return signed.signedTransaction;
    },
  };
}

export async function disconnect() {
  const feature = current?.wallet.features[DISCONNECT] as { disconnect(): Promise<void> } | undefined;
  unsubscribe?.();
  unsubscribe = null;
  localStorage.removeItem("timelock.wallet");
  setCurrent(null);
  await feature?.disconnect().catch(() => undefined);
}

/** Remembers the wallet last connected and reconnects to it when it registers again (a reload). */
export function useAutoReconnect(cluster: string | undefined) {
  const wallets = useWallets();
  const [tried, setTried] = useState(false);
  useEffect(() => {
    const name = localStorage.getItem("timelock.wallet");
    const wallet = wallets.find((w) => w.name === name);
    if (!cluster || tried || !wallet) return;
    setTried(true);
    connect(wallet, cluster).catch(() => localStorage.removeItem("timelock.wallet"));
  }, [wallets, cluster, tried]);
}
