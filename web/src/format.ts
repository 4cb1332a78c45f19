// How amounts, addresses and times are shown: token units with the mint's decimals, shortened addresses, the
// user's time zone.

/** `units` base units of a mint with `decimals`, in token units, exactly (no float rounding). */
export function tokens(units: number | bigint | string, decimals: number, maxFraction = decimals): string {
  const value = BigInt(units);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = (abs / scale).toLocaleString("en-US");
  let fraction = (abs % scale).toString().padStart(decimals, "0").slice(0, maxFraction).replace(/0+$/, "");
  if (fraction.length < 2 && maxFraction >= 2 && decimals >= 2) fraction = fraction.padEnd(2, "0");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Token units typed by a person → base units; an error that says what is wrong. */
export function parseTokens(text: string, decimals: number): bigint {
  const trimmed = text.trim().replace(/,/g, "");
  if (!/^\d+(\.\d+)?$/.test(trimmed)) throw new Error(`"${text}" is not an amount (digits, optionally a decimal point)`);
  const [whole, fraction = ""] = trimmed.split(".");
  if (fraction.length > decimals) throw new Error(`at most ${decimals} decimals`);
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

export const short = (address: string) => (address.length > 12 ? `${address.slice(0, 4)}…${address.slice(-4)}` : address);

export function time(unixSeconds: number | bigint | null | undefined): string {
  if (!unixSeconds) return "—";
  return new Date(Number(unixSeconds) * 1000).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

export function duration(secs: number | bigint): string {
  const s = Number(secs);
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
}

export const percent = (fraction: number) => `${(fraction * 100).toFixed(1)} %`;

export const COMPLIANCE: [number, string][] = [
  [1, "SOC 2"],
  [2, "HIPAA"],
  [4, "E2E encryption"],
];

export const complianceNames = (bits: number) =>
  COMPLIANCE.filter(([bit]) => bits & bit)
    .map(([, name]) => name)
    .join(", ") || "—";
