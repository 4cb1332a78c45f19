// What every page shares: the loading, empty and error states, addresses with copy, amounts, and data that
// refreshes itself.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";

import type { ConsoleConfig } from "./api";
import type { Chain } from "./chain";
import type { Config } from "./client/generated/accounts/config";
import { short, tokens } from "./format";

export interface Env {
  settings: ConsoleConfig;
  chain: Chain;
  /** The program's config once read (mints and decimals); null until then or when it cannot be read. */
  program: Config | null;
}

export const EnvContext = createContext<Env | null>(null);
/** The environment; the explorer renders before it is read (only amounts' decimals wait for it), every other
 * page only once it is. */
export const useEnv = (): Env => useContext(EnvContext) ?? { settings: null!, chain: null!, program: null };

export type Loaded<T> = { state: "loading" } | { state: "error"; error: Error } | { state: "ready"; value: T };

/** `load()` now, again whenever `deps` change, and every `everyMs` when given. A refresh that fails keeps the
 * last value on screen (a transient error must not blank a page being watched); a first load that fails shows
 * its error. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    load().then(
      (value) => mine === generation.current && setLoaded({ state: "ready", value }),
      (error: Error) =>
        mine === generation.current && setLoaded((prev) => (prev.state === "ready" ? prev : { state: "error", error })),
    );
  }, deps);
  useEffect(() => {
    setLoaded({ state: "loading" });
    run();
    if (!everyMs) return;
    const timer = setInterval(run, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return [loaded, run];
}

export function Show<T>({
  loaded,
  empty,
  isEmpty,
  children,
  what,
}: {
  loaded: Loaded<T>;
  what: string;
  empty?: ReactNode;
  isEmpty?: (value: T) => boolean;
  children: (value: T) => ReactNode;
}) {
  if (loaded.state === "loading") return <div className="state loading" role="status">Loading {what}…</div>;
  if (loaded.state === "error")
    return (
      <div className="state error" role="alert">
        Could not load {what}: {loaded.error.message}
      </div>
    );
  if (isEmpty?.(loaded.value)) return <div className="state empty">{empty ?? `No ${what} yet.`}</div>;
  return <>{children(loaded.value)}</>;
}

export function Addr({ value, href }: { value: string | null | undefined; href?: string }) {
  const [copied, setCopied] = useState(false);
  if (!value) return <span className="muted">—</span>;
  const copy = () => {
    navigator.clipboard?.writeText(value).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    });
  };
  return (
    <span className="addr" title={value}>
      {href ? <a href={href}>{short(value)}</a> : short(value)}
      <button type="button" className="copy" onClick={copy} aria-label={`copy ${value}`}>
        {copied ? (
          <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <path d="M3 8l3 3 7-7" fill="none" stroke="currentColor" strokeWidth="2" />
          </svg>
        ) : (
          <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
            <path d="M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
          </svg>
        )}
      </button>
    </span>
  );
}

/** An amount of the payment (`pay`) or stake (`stake`) mint, in token units. */
export function Amount({ units, mint }: { units: number | bigint | string; mint: "pay" | "stake" }) {
  const { program } = useEnv();
  if (!program) return <span>{String(units)}</span>;
  const decimals = mint === "pay" ? program.paymentDecimals : program.stakeDecimals;
  return (
    <span className="amount">
      {tokens(units, decimals, mint === "pay" ? Math.min(decimals, 6) : 4)} <span className="unit">{mint === "pay" ? "USDC" : "stake"}</span>
    </span>
  );
}

export function Stat({ label, children, testid, when }: { label: string; children: ReactNode; testid?: string; when?: boolean }) {
  return (
    <div className={when ? "stat when" : "stat"} data-testid={testid}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{children}</div>
    </div>
  );
}

/** A button that runs a wallet action and shows its progress and its outcome. */
export function Action({
  label,
  run,
  disabled,
  kind,
}: {
  label: string;
  run: (progress: (text: string) => void) => Promise<string | void>;
  disabled?: boolean;
  kind?: "primary" | "danger";
}) {
  const [status, setStatus] = useState<{ busy: boolean; text?: string; error?: boolean }>({ busy: false });
  const click = async () => {
    setStatus({ busy: true, text: "Preparing…" });
    try {
      const done = await run((text) => setStatus({ busy: true, text }));
      setStatus({ busy: false, text: done || "Done" });
    } catch (e) {
      setStatus({ busy: false, text: (e as Error).message, error: true });
    }
  };
  return (
    <span className="action">
      <button type="button" className={kind ?? ""} onClick={click} disabled={disabled || status.busy}>
        {label}
      </button>
      {status.text && (
        <span className={status.error ? "action-error" : "action-status"} role={status.error ? "alert" : "status"}>
          {status.text}
        </span>
      )}
    </span>
  );
}
