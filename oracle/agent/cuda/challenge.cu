// The benchmark challenge on the GPU: the same matrices and product as the CPU reference in
// oracle/protocol/src/challenge.rs (`element_at`, `solve`, and C·r in `Committed::open`), over the field
// p = 2^31 - 1.
// Compiled to PTX by scripts/cuda/ptx.sh (the checked-in challenge.ptx beside this file; the driver JITs it for
// sm_80 and sm_90), so the host side needs no nvcc. Device code only: no host code and no includes, because the
// PTX is all the host loads.
//
// Launch shapes the host must use (all kernels take their arguments in the order of their signatures):
//
//   fill_elements(out, state0, count)   block (256, 1, 1); grid (g, 1, 1) for any g >= 1 (grid-stride loop);
//                                       g = min(ceil(count / 256), 65535) is plenty. No shared memory.
//   matmul_mod(a, b, c, n)              block (16, 16, 1) exactly (the kernel traps otherwise);
//                                       grid (ceil(n / 64), ceil(n / 64), 1): x walks column tiles, y row tiles.
//                                       No dynamic shared memory (8.25 KiB static).
//   mat_vec_mod(m, v, out, n)           block (256, 1, 1) exactly (8 warps, one row each; traps otherwise);
//                                       grid (ceil(n / 8), 1, 1). No shared memory.
//
// Buffers are row-major n x n arrays of u32 (vectors of n u32); every input entry must be below 2^31 (the field
// elements are below p), and every output entry is fully reduced (below p). a, b and c must not overlap.

typedef unsigned int u32;
typedef unsigned long long u64;

#define P 0x7FFFFFFFu
#define GOLDEN 0x9E3779B97F4A7C15ull

// Exact x mod p for any u64, cheaper than the 64-bit `%`: 2^31 = 1 (mod p), so the bits above 31 fold onto the
// low ones. Two folds bring x below p + 8, one subtraction finishes.
__device__ __forceinline__ u32 reduce(u64 x) {
    x = (x & P) + (x >> 31);                 // < 2^31 + 2^33
    u32 r = (u32)((x & P) + (x >> 31));      // < 2^31 + 8, so one subtraction is enough (and p itself becomes 0)
    return r >= P ? r - P : r;
}

// Cheap partial reduction for the accumulators: 2^32 = 2 (mod p), so hi * 2^32 + lo becomes lo + hi + hi, and any
// u64 comes out below 3 * 2^32. Written as two adds because that compiles to one three-input add with its carry
// (IADD3, IADD3.X); `hi * 2 + lo` is rewritten by the compiler into 64-bit shifts and masks, three times as long.
// Not a full reduction; reduce() finishes at the end.
__device__ __forceinline__ u64 fold(u64 x) {
    u32 hi = (u32)(x >> 32);
    return (u64)(u32)x + hi + hi;
}

// SplitMix64's output function, the same constants as the CPU side.
__device__ __forceinline__ u64 mix(u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Element k of the stream whose state after seeding is state0 (the host does the seeding, 4 rounds over the
// 32-byte seed): the CPU adds GOLDEN before each draw, so draw k sees state0 + (k + 1) * GOLDEN. Counter-based,
// so every thread computes its own elements without the ones before.
extern "C" __global__ void __launch_bounds__(256)
fill_elements(u32* __restrict__ out, u64 state0, u64 count) {
    u64 stride = (u64)gridDim.x * blockDim.x;
    for (u64 k = (u64)blockIdx.x * blockDim.x + threadIdx.x; k < count; k += stride)
        out[k] = reduce(mix(state0 + (k + 1) * GOLDEN));
}

// C = A * B mod p with 64 x 64 output tiles, 16 x 16 threads and a 4 x 4 block of outputs per thread.
//
// Why this shape: the cost is integer multiply-adds (a 32 x 32 -> 64-bit IMAD.WIDE each), so each value read from
// shared memory must feed several of them. A 4 x 4 register block does 16 multiply-adds per 2 vector loads
// (uint4 from A's column, uint4 from B's row), and its 16 u64 accumulators (32 registers) leave room for several
// blocks per SM. 8 x 8 per thread would need 128 accumulator registers and starve occupancy; 16 x 16 tiles with one
// output per thread spend as many shared loads as multiplies.
//
// Overflow: entries are below 2^31, so a product is at most (2^31 - 1)^2 = 2^62 - 2^32 + 1. An accumulator that
// was just folded is below 3 * 2^32, and four products on top stay below 2^64 - 2^34 + 3 * 2^32 + 4 < 2^64; a
// fifth could wrap. So the k loop folds every accumulator after each group of 4 products (the KSTEP loop below); the
// tile depth is a multiple of 4, and the zero padding past the matrix edge adds nothing.
#define TILE 64     // output rows and columns per block
#define TK 16       // depth of a k tile; a multiple of 4 (the fold period)
#define PER 4       // outputs per thread in each direction: TILE / 16
#define KSTEP 4     // products between folds (see above)
#define LOADS (TILE * TK / 256)  // elements of each tile a thread loads
// A's tile is stored transposed (As[k][row]) so a thread's 4 rows are one aligned uint4. The +4 padding keeps that
// alignment (68 words = 17 x 16 bytes) and spreads the transposing stores over 8 banks instead of 1.
#define AS_STRIDE (TILE + 4)

extern "C" __global__ void __launch_bounds__(256)
matmul_mod(const u32* __restrict__ a, const u32* __restrict__ b, u32* __restrict__ c, u32 n) {
    // The tiling assumes exactly 256 threads in a 16 x 16 block; a wrong launch must fail, not return garbage.
    if (blockDim.x != 16 || blockDim.y != 16 || blockDim.z != 1) __trap();

    __shared__ __align__(16) u32 As[TK][AS_STRIDE];
    __shared__ __align__(16) u32 Bs[TK][TILE];

    const u32 tx = threadIdx.x, ty = threadIdx.y;
    const u32 tid = ty * 16 + tx;
    const u32 row0 = blockIdx.y * TILE, col0 = blockIdx.x * TILE;

    // Each thread loads the same 4 places of every A tile and of every B tile, only k moves: 256 threads cover a
    // 64 x 16 A tile as 16 threads along k by 16 rows (4 times, 16 rows apart) and a 16 x 64 B tile as 64 threads
    // along a row by 4 rows (4 times, 4 rows apart). So a half-warp reads 64 contiguous bytes of a row of A and a
    // warp 128 contiguous bytes of a row of B, and from one tile to the next only k0 changes.
    const u32 a_k = tid % TK, a_r = tid / TK;
    const u32 b_c = tid % TILE, b_k = tid / TILE;
    const u32 gc = col0 + b_c;

    u64 acc[PER][PER];
#pragma unroll
    for (int i = 0; i < PER; i++)
#pragma unroll
        for (int j = 0; j < PER; j++) acc[i][j] = 0;

    for (u32 k0 = 0; k0 < n; k0 += TK) {
        // Outside the matrix a tile holds zeros, which add nothing: that is what lets n be any size.
        const u32 ga = k0 + a_k;
#pragma unroll
        for (int l = 0; l < LOADS; l++) {
            u32 gr = row0 + a_r + l * (256 / TK);
            As[a_k][a_r + l * (256 / TK)] = (gr < n && ga < n) ? a[(u64)gr * n + ga] : 0;
        }
#pragma unroll
        for (int l = 0; l < LOADS; l++) {
            u32 gb = k0 + b_k + l * (256 / TILE);
            Bs[b_k + l * (256 / TILE)][b_c] = (gb < n && gc < n) ? b[(u64)gb * n + gc] : 0;
        }
        __syncthreads();

#pragma unroll
        for (int kq = 0; kq < TK; kq += KSTEP) {
#pragma unroll
            for (int kk = kq; kk < kq + KSTEP; kk++) {
                uint4 av = *reinterpret_cast<const uint4*>(&As[kk][ty * PER]);
                uint4 bv = *reinterpret_cast<const uint4*>(&Bs[kk][tx * PER]);
                u32 ar[PER] = {av.x, av.y, av.z, av.w};
                u32 br[PER] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
                for (int i = 0; i < PER; i++)
#pragma unroll
                    for (int j = 0; j < PER; j++) acc[i][j] += (u64)ar[i] * br[j];
            }
            // After every KSTEP products, before a fifth could overflow.
#pragma unroll
            for (int i = 0; i < PER; i++)
#pragma unroll
                for (int j = 0; j < PER; j++) acc[i][j] = fold(acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < PER; i++) {
        u32 r = row0 + ty * PER + i;
        if (r >= n) continue;
#pragma unroll
        for (int j = 0; j < PER; j++) {
            u32 cc = col0 + tx * PER + j;
            if (cc < n) c[(u64)r * n + cc] = reduce(acc[i][j]);
        }
    }
}

// out = M v mod p, one warp per row: the verifier's Freivalds products are O(n^2) and bound by reading M, and a
// warp's lanes reading consecutive entries of one row make every load a full 128-byte transaction.
extern "C" __global__ void __launch_bounds__(256)
mat_vec_mod(const u32* __restrict__ m, const u32* __restrict__ v, u32* __restrict__ out, u32 n) {
    // The row index below assumes 8 warps of 32; a wrong launch must fail, not skip rows.
    if (blockDim.x != 256 || blockDim.y != 1 || blockDim.z != 1) __trap();

    const u32 lane = threadIdx.x & 31;
    const u32 row = blockIdx.x * 8 + (threadIdx.x >> 5);
    // The whole warp leaves together (row is uniform across it), so the full-mask shuffles below are safe.
    if (row >= n) return;

    const u32* mr = m + (u64)row * n;
    u64 acc = 0;
    // Folding after every product keeps acc below 3 * 2^32 + 2^62; the loop is bound by memory, not by the fold.
    for (u32 k = lane; k < n; k += 32) acc = fold(acc + (u64)mr[k] * v[k]);

    // 32 lane sums each below 2^31 add up to below 2^36: no overflow in the tree.
    u64 s = reduce(acc);
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) s += __shfl_down_sync(0xFFFFFFFFu, s, d);
    if (lane == 0) out[row] = reduce(s);
}
