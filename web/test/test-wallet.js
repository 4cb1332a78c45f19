// A Wallet Standard wallet backed by a keypair, for the browser test only: Playwright adds this script to the
// page before the console loads (it is not part of the console's build) and signs in Node through
// `window.__timelockTestWalletSign`, so the key never enters the page. The console finds it the way it finds
// Phantom or Solflare: by the Wallet Standard's registration events.
(() => {
  const { name, address, publicKey } = window.__timelockTestWallet;
  const chains = ["solana:localnet", "solana:devnet", "solana:testnet", "solana:mainnet"];
  const account = Object.freeze({
    address,
    publicKey: new Uint8Array(publicKey),
    chains,
    features: ["solana:signTransaction"],
  });
  const listeners = { change: new Set() };
  const emit = (event, properties) => listeners[event].forEach((l) => l(properties));

  const b64 = {
    encode: (bytes) => btoa(String.fromCharCode(...bytes)),
    decode: (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)),
  };
  // compact-u16, as Solana's wire format writes lengths.
  const shortVec = (bytes, at) => {
    let value = 0;
    for (let i = 0; i < 3; i++) {
      const byte = bytes[at + i];
      value |= (byte & 0x7f) << (7 * i);
      if (!(byte & 0x80)) return [value, at + i + 1];
    }
    throw new Error("bad compact-u16");
  };

  /** Signs the message of a wire transaction in the slot of this wallet's key among its signers. */
  async function sign(transaction) {
    const bytes = new Uint8Array(transaction);
    const [signatures, messageAt] = shortVec(bytes, 0);
    const message = bytes.slice(messageAt + 64 * signatures);
    let at = message[0] & 0x80 ? 1 : 0; // a versioned message starts with its version byte
    const required = message[at];
    at += 3;
    const [keyCount, keysAt] = shortVec(message, at);
    let slot = -1;
    for (let i = 0; i < Math.min(required, keyCount); i++) {
      const key = message.slice(keysAt + 32 * i, keysAt + 32 * (i + 1));
      if (key.every((b, j) => b === account.publicKey[j])) slot = i;
    }
    if (slot < 0) throw new Error("this wallet is not a signer of the transaction");
    const signature = b64.decode(await window.__timelockTestWalletSign(b64.encode(message)));
    const signed = bytes.slice();
    signed.set(signature, messageAt + 64 * slot);
    return signed;
  }

  const wallet = {
    version: "1.0.0",
    name,
    icon: "data:image/svg+xml;base64," + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="4" fill="#5eead4"/></svg>'),
    chains,
    get accounts() {
      return connected ? [account] : [];
    },
    features: {
      "standard:connect": {
        version: "1.0.0",
        async connect() {
          connected = true;
          emit("change", { accounts: [account] });
          return { accounts: [account] };
        },
      },
      "standard:disconnect": {
        version: "1.0.0",
        async disconnect() {
          connected = false;
          emit("change", { accounts: [] });
        },
      },
      "standard:events": {
        version: "1.0.0",
        on(event, listener) {
          listeners[event]?.add(listener);
          return () => listeners[event]?.delete(listener);
        },
      },
      "solana:signTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: ["legacy", 0],
        async signTransaction(...inputs) {
          return Promise.all(inputs.map(async ({ transaction }) => ({ signedTransaction: await sign(transaction) })));
        },
      },
    },
  };
  let connected = false;

  // The Wallet Standard's registration: answer an app that is already listening, and one that comes later.
  const register = ({ register }) => register(wallet);
  try {
    window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: register }));
  } catch (error) {
    console.error("wallet-standard:register-wallet event could not be dispatched", error);
  }
  try {
    window.addEventListener("wallet-standard:app-ready", ({ detail: api }) => register(api));
  } catch (error) {
    console.error("wallet-standard:app-ready event listener could not be added", error);
  }
})();
