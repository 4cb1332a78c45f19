// The indexer API (/v1, same origin): typed reads. The types mirror the OpenAPI document at /openapi.json.

export interface ConsoleConfig {
  rpc_url: string;
  cluster: string;
  program_id: string;
}

export interface WorkerView {
  address: string;
  supplier: string;
  worker_index: number;
  gpu_model: string;
  gpu_count: number;
  vram_gib: number;
  cpu_cores: number;
  ram_gib: number;
  region: string;
  connectivity_tier: number;
  compliance: number;
  green_energy: boolean;
  price_per_gpu_hour: number;
  device_key: string;
  max_lease_hours: number;
  available: boolean;
  active_lease: string | null;
  bonded_stake: number;
  jailed_until: number;
  fault_count: number;
  registered_at: number;
  bookable: boolean;
}

export interface SupplierView {
  address: string;
  authority: string;
  staked: number;
  unbonding: number;
  unbond_ready_at: number;
  reserved: number;
  locked: number;
  free: number;
  slashed_total: number;
  fault_count: number;
  earnings_unclaimed: number;
  earnings_claimed: number;
  active_leases: number;
  worker_count: number;
  gpu_count: number;
  created_at: number;
}

export interface ClusterView {
  address: string;
  renter: string;
  cluster_id: number;
  payment_mint: string;
  purpose: string;
  status: string;
  start_ts: number;
  end_ts: number;
  hours: number;
  lease_count: number;
  leases_open: number;
  hourly_rate_total: number;
  deposited: number;
  paid_to_suppliers: number;
  fees: number;
  refunded: number;
}

export interface LeaseView {
  address: string;
  cluster: string;
  worker: string;
  supplier: string;
  price_per_gpu_hour: number;
  hourly_rate: number;
  gpu_count: number;
  collateral: number;
  start_ts: number;
  max_end_ts: number;
  removed_at: number;
  proven_secs: number;
  final_secs: number;
  faults: number;
  final_faults: number;
  gross_paid: number;
  fees_paid: number;
  slashed: number;
  disputer: string | null;
  disputed: boolean;
}

export interface Stats {
  gpus_total: number;
  gpus_available: number;
  gpus_rented: number;
  utilization: number;
  by_model_and_region: {
    gpu_model: string;
    region: string;
    gpus_total: number;
    gpus_available: number;
    gpus_rented: number;
  }[];
  median_price_by_model: { gpu_model: string; median_price_per_gpu_hour: number }[];
  volume_paid_24h: number;
}

/** `/v1/stats/daily`: every UTC day of the range, oldest first. */
export interface Daily {
  days: {
    day: number;
    volume_paid: number;
    prices: { gpu_model: string; median_price_per_gpu_hour: number; leases: number }[];
  }[];
}

export interface Payout {
  id: string;
  signature: string;
  block_time: number | null;
  kind: string;
  supplier: string;
  lease: string | null;
  cluster: string | null;
  amount: number;
  fee: number;
  refund: number;
}

export interface Slash {
  id: string;
  signature: string;
  block_time: number | null;
  supplier: string;
  lease: string | null;
  amount: number;
  [field: string]: unknown;
}

/** What a supplier was paid and slashed over its whole history (from the events). */
export interface SupplierTotals {
  earned_total: number;
  slashes_total: number;
}

export interface Interval {
  start: number;
  end: number;
  reason: string;
  [field: string]: unknown;
}

export interface LeaseIntervals {
  lease: string;
  oracles: ({ url: string; oracle: string; intervals: Interval[]; next: number | null } | { url: string; error: string })[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** An error the API answered (`{"error": {"code", "message"}}`), or a failure to reach it. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") query.set(name, String(value));
  }
  const url = query.size > 0 ? `${path}?${query}` : path;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new ApiError(`the indexer API cannot be reached (${(e as Error).message})`, "unreachable", 0);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = body?.error;
    throw new ApiError(error?.message ?? `${response.status} ${response.statusText}`, error?.code ?? "http", response.status);
  }
  return response.json() as Promise<T>;
}

/** Every page of a list, up to `max` items. */
export async function all<T>(path: string, params: Record<string, string | number | boolean | undefined>, max = 2_000) {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api<Page<T>>(path, { ...params, limit: 500, cursor });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < max);
  return items;
}
