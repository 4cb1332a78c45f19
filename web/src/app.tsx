import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";

import { api, type ConsoleConfig } from "./api";
import type { Config } from "./client/generated/accounts/config";
import { short } from "./format";
import { Explorer } from "./pages/Explorer";
import { EnvContext, Show, useLoad, type Env } from "./ui";
import { connect, disconnect, useAutoReconnect, useConnection, useWallets } from "./wallet";

// The explorer is the landing page and renders from the API alone; the pages that build transactions load
// with the rest of the client when first opened.
const Marketplace = lazy(() => import("./pages/Marketplace").then((m) => ({ default: m.Marketplace })));
const Clusters = lazy(() => import("./pages/Clusters").then((m) => ({ default: m.Clusters })));
const Supplier = lazy(() => import("./pages/Supplier").then((m) => ({ default: m.Supplier })));

const PAGES: { path: string; title: string; page: () => ReactNode; needsChain: boolean }[] = [
  { path: "", title: "Explorer", page: () => <Explorer />, needsChain: false },
  { path: "market", title: "Marketplace", page: () => <Marketplace />, needsChain: true },
  { path: "clusters", title: "My clusters", page: () => <Clusters />, needsChain: true },
  { path: "supplier", title: "Supplier", page: () => <Supplier />, needsChain: true },
];

/** `#/<page>[/…]`: hash routes, so that the indexer serves one page for all of them. */
function useRoute(): string {
  const read = () => location.hash.replace(/^#\/?/, "").split("/")[0];
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route === "search" ? "" : route;
}

export function App() {
  const [settings] = useLoad(() => api<ConsoleConfig>("/v1/console-config"), []);
  const [env, setEnv] = useState<Env | null>(null);
  const [chainError, setChainError] = useState<string | null>(null);
  useEffect(() => {
    if (settings.state !== "ready") return;
    // The chain client (and the generated program client behind it) loads beside the explorer, not before it.
    import("./chain").then(({ Chain }) => {
      const chain = new Chain(settings.value);
      setEnv({ settings: settings.value, chain, program: null });
      // Amounts render as base units until the mints' decimals are read; the pages do not wait for the chain.
      chain.programConfig().then(
        (program: Config) => {
          setChainError(null);
          setEnv({ settings: settings.value, chain, program });
        },
        (e: Error) => setChainError(e.message),
      );
    });
  }, [settings]);
  const route = useRoute();
  const current = PAGES.find((p) => p.path === route) ?? PAGES[0];
  useEffect(() => {
    document.title = `${current.title} · timelock`;
  }, [current]);
  return (
    <>
      <header>
        <a className="brand" href="#/">
          <Logo /> timelock
        </a>
        <nav>
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} className={p === current ? "active" : ""}>
              {p.title}
            </a>
          ))}
        </nav>
        {env && <WalletButton cluster={env.settings.cluster} />}
      </header>
      <main>
        {chainError && (
          <div className="state error" role="alert">
            The chain cannot be read ({chainError}): amounts are shown in base units and wallet actions will fail.
          </div>
        )}
        {current.needsChain ? (
          <Show loaded={settings} what="the console's settings">
            {() =>
              env ? (
                <EnvContext.Provider value={env}>
                  <Suspense fallback={<div className="state loading">Loading the page…</div>}>{current.page()}</Suspense>
                </EnvContext.Provider>
              ) : null
            }
          </Show>
        ) : (
          <EnvContext.Provider value={env}>{current.page()}</EnvContext.Provider>
        )}
      </main>
      <footer>
        {env && (
          <>
            <span className="tag">{env.settings.cluster}</span> program <code>{short(env.settings.program_id)}</code> · RPC{" "}
            <code>{env.settings.rpc_url}</code> · <a href="/openapi.json">API</a>
          </>
        )}
      </footer>
    </>
  );
}

/** An hourglass: time, locked. Inline, so that no font or file is needed. */
function Logo() {
  return (
    <svg className="logo" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
      <path d="M6 2h12v2l-4.5 8L18 20v2H6v-2l4.5-8L6 4z" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
      <path d="M9 20l3-5 3 5z" fill="currentColor" />
    </svg>
  );
}

function WalletButton({ cluster }: { cluster: string }) {
  const wallets = useWallets();
  const connected = useConnection();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useAutoReconnect(cluster);
  if (connected) {
    return (
      <div className="wallet">
        <button type="button" className="connected" onClick={() => disconnect()} title={`${connected.wallet.name}: ${connected.address} — click to disconnect`}>
          {connected.wallet.icon && <img src={connected.wallet.icon} alt="" />} {short(connected.address)}
        </button>
      </div>
    );
  }
  return (
    <div className="wallet">
      <button type="button" className="primary" onClick={() => setOpen(!open)}>
        Connect wallet
      </button>
      {open && (
        <div className="wallet-menu" role="menu">
          {wallets.length === 0 && <div className="state empty">No Wallet Standard wallet found: install Phantom, Solflare or Backpack.</div>}
          {wallets.map((w) => (
            <button
              key={w.name}
              type="button"
              role="menuitem"
              onClick={() => {
                setError(null);
                connect(w, cluster).then(
                  () => {
                    localStorage.setItem("timelock.wallet", w.name);
                    setOpen(false);
                  },
                  (e: Error) => setError(`${w.name}: ${e.message}`),
                );
              }}
            >
              {w.icon && <img src={w.icon} alt="" />} {w.name}
            </button>
          ))}
          {error && <div className="state error" role="alert">{error}</div>}
        </div>
      )}
    </div>
  );
}
