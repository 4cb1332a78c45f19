//! The challenge's kernels for the GPU: `cuda/challenge.cu`, compiled to PTX by `scripts/cuda/ptx.sh` (nvcc from
//! Debian's non-free `nvidia-cuda-toolkit`, assembled by ptxas for sm_80 and sm_90 when generated) and checked
//! in beside its source, so that building the agent needs nothing NVIDIA: the driver JIT-compiles the PTX on
//! the host that runs it. The tests below fail when the PTX no longer matches its source.
//!
//! The host side loads the driver at run time (`cudarc` with dynamic loading): the agent builds without CUDA
//! and, on a host without the driver, says so and falls back to the CPU solver. Everything up to the driver
//! call (the launch shapes the kernels demand, the seeding) is plain code, tested without a GPU.

use std::sync::Arc;

use cudarc::driver::{sys, CudaContext, CudaFunction, CudaStream, DriverError, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
use timelock_protocol::challenge::{stream_start, Challenge, SALT_A, SALT_B};

/// The PTX, embedded in the agent.
pub const PTX: &str = include_str!("../cuda/challenge.ptx");

/// The kernels the PTX must define.
pub const KERNELS: [&str; 3] = ["fill_elements", "matmul_mod", "mat_vec_mod"];

/// The value of a `// key: value` line of the PTX's generated header.
pub fn header(key: &str) -> Option<&'static str> {
    PTX.lines()
        .take_while(|line| line.starts_with("//"))
        .find_map(|line| line.strip_prefix("// ")?.strip_prefix(key)?.strip_prefix(": "))
}

/// Grid and block of one kernel launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub grid: (u32, u32, u32),
    pub block: (u32, u32, u32),
}

impl From<Shape> for LaunchConfig {
    fn from(shape: Shape) -> Self {
        LaunchConfig { grid_dim: shape.grid, block_dim: shape.block, shared_mem_bytes: 0 }
    }
}

/// The launches of one challenge's product, as `cuda/challenge.cu`'s header demands them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProductPlan {
    pub n: u32,
    /// Entries of each matrix.
    pub elements: u64,
    /// Where the streams of A and B start: the same seeding as the CPU's `element_at`.
    pub state_a: u64,
    pub state_b: u64,
    /// `fill_elements`: 256 threads a block, a grid-stride loop (any grid of at most 65,535 blocks covers it).
    pub fill: Shape,
    /// `matmul_mod`: exactly 16 × 16 threads, one block per 64 × 64 output tile.
    pub matmul: Shape,
}

impl ProductPlan {
    pub fn of(challenge: &Challenge) -> Self {
        let n = challenge.size;
        let elements = u64::from(n) * u64::from(n);
        let fill_blocks = u32::try_from(elements.div_ceil(256)).unwrap_or(u32::MAX).clamp(1, 65_535);
        let tiles = n.div_ceil(64).max(1);
        ProductPlan {
            n,
            elements,
            state_a: stream_start(&challenge.seed, SALT_A),
            state_b: stream_start(&challenge.seed, SALT_B),
            fill: Shape { grid: (fill_blocks, 1, 1), block: (256, 1, 1) },
            matmul: Shape { grid: (tiles, tiles, 1), block: (16, 16, 1) },
        }
    }

    /// Device memory the product takes: A, B and C.
    pub fn device_bytes(&self) -> u64 {
        3 * self.elements * 4
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no CUDA driver on this host (libcuda was not found)")]
    NoDriver,
    #[error("CUDA: {0}")]
    Driver(String),
    #[error("the CUDA driver lacks a function this agent needs")]
    DriverPanicked,
    #[error("a {n} × {n} product needs {need} bytes of GPU memory; the GPU has {has}")]
    OutOfMemory { n: u32, need: u64, has: u64 },
}

impl From<DriverError> for GpuError {
    fn from(error: DriverError) -> Self {
        GpuError::Driver(error.to_string())
    }
}

/// The challenge's product on GPU 0.
pub struct GpuSolver {
    pub device: String,
    memory: u64,
    stream: Arc<CudaStream>,
    fill: CudaFunction,
    matmul: CudaFunction,
}

impl GpuSolver {
    /// Loads the driver, the PTX (JIT-compiled by the driver for this GPU) and the kernels. A host without the
    /// driver gets `NoDriver`, never a panic: the library is looked for before anything calls into it, and a
    /// driver too old for a symbol (cudarc panics then) is caught.
    pub fn open() -> Result<Self, GpuError> {
        // SAFETY: only tries to load the library and reports whether it could.
        if !unsafe { sys::is_culib_present() } {
            return Err(GpuError::NoDriver);
        }
        std::panic::catch_unwind(|| -> Result<Self, GpuError> {
            let context = CudaContext::new(0)?;
            let module = context.load_module(Ptx::from_src(PTX))?;
            Ok(GpuSolver {
                device: context.name()?,
                memory: context.total_mem()? as u64,
                stream: context.default_stream(),
                fill: module.load_function("fill_elements")?,
                matmul: module.load_function("matmul_mod")?,
            })
        })
        .unwrap_or(Err(GpuError::DriverPanicked))
    }

    /// C = A·B mod p for the challenge's seeded A and B, row-major.
    pub fn product(&self, challenge: &Challenge) -> Result<Vec<u32>, GpuError> {
        let plan = ProductPlan::of(challenge);
        if plan.device_bytes() > self.memory {
            return Err(GpuError::OutOfMemory { n: plan.n, need: plan.device_bytes(), has: self.memory });
        }
        let stream = &self.stream;
        let len = usize::try_from(plan.elements).expect("checked against the GPU's memory");
        let mut a = stream.alloc_zeros::<u32>(len)?;
        let mut b = stream.alloc_zeros::<u32>(len)?;
        let mut c = stream.alloc_zeros::<u32>(len)?;
        // SAFETY: the arguments are those of the kernels' signatures, in order (`cuda/challenge.cu`), the buffers
        // hold `elements` entries each, and the shapes are the ones the kernels demand.
        unsafe {
            stream
                .launch_builder(&self.fill)
                .arg(&mut a)
                .arg(&plan.state_a)
                .arg(&plan.elements)
                .launch(plan.fill.into())?;
            stream
                .launch_builder(&self.fill)
                .arg(&mut b)
                .arg(&plan.state_b)
                .arg(&plan.elements)
                .launch(plan.fill.into())?;
            stream.launch_builder(&self.matmul).arg(&a).arg(&b).arg(&mut c).arg(&plan.n).launch(plan.matmul.into())?;
        }
        Ok(stream.clone_dtoh(&c)?)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use timelock_protocol::challenge as protocol;

    use super::*;

    const SOURCE: &str = include_str!("../cuda/challenge.cu");

    #[test]
    fn the_shipped_ptx_was_generated_from_the_source_beside_it() {
        let digest: String = Sha256::digest(SOURCE.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            header("source-sha256"),
            Some(digest.as_str()),
            "cuda/challenge.cu changed since challenge.ptx was generated: run scripts/cuda/ptx.sh"
        );
    }

    #[test]
    fn the_ptx_was_assembled_for_both_gpu_generations_and_defines_every_kernel() {
        assert_eq!(header("ptxas-checked"), Some("sm_80 sm_90"));
        assert!(header("nvcc").is_some_and(|v| v.contains("release 11.8")), "{:?}", header("nvcc"));
        assert!(PTX.lines().any(|l| l.trim() == ".target sm_80"), "PTX for sm_80, which sm_90 also runs");
        for kernel in KERNELS {
            assert!(PTX.contains(&format!(".visible .entry {kernel}(")), "{kernel} missing from the PTX");
            assert!(SOURCE.contains(&format!("{kernel}(")), "{kernel} missing from the source");
        }
    }

    fn challenge(size: u32) -> Challenge {
        Challenge { id: 1, seed: [7; 32], size, oracle: [1; 32] }
    }

    #[test]
    fn every_launch_has_the_shape_its_kernel_demands_and_covers_the_matrix() {
        for n in [1, 8, 63, 64, 65, 96, 1_000, 8_192, 16_384] {
            let plan = ProductPlan::of(&challenge(n));
            assert_eq!(plan.elements, u64::from(n) * u64::from(n));
            assert_eq!(plan.matmul.block, (16, 16, 1), "matmul_mod traps on any other block");
            let (x, y, z) = plan.matmul.grid;
            assert!(x == y && z == 1 && u64::from(x) * 64 >= u64::from(n) && u64::from(x - 1) * 64 < u64::from(n));
            assert_eq!(plan.fill.block, (256, 1, 1));
            assert!((1..=65_535).contains(&plan.fill.grid.0) && plan.fill.grid.1 == 1);
            let config = LaunchConfig::from(plan.matmul);
            assert_eq!((config.grid_dim, config.block_dim, config.shared_mem_bytes), ((x, y, 1), (16, 16, 1), 0));
        }
        assert_eq!(ProductPlan::of(&challenge(8_192)).device_bytes(), 3 << 28, "three 256 MiB matrices");
        // The kernel's element k of A is the CPU's `element_at(stream_start(seed, SALT_A), k)`.
        let plan = ProductPlan::of(&challenge(96));
        assert_eq!((plan.state_a, plan.state_b), (stream_start(&[7; 32], SALT_A), stream_start(&[7; 32], SALT_B)));
    }

    /// Without a driver (CI, most machines) the solver says so instead of panicking; where a GPU is present the
    /// same test checks the GPU's product against the CPU's, entry for entry.
    #[test]
    fn the_gpu_solver_reports_a_missing_driver_or_agrees_with_the_cpu() {
        match GpuSolver::open() {
            Err(GpuError::NoDriver) => {
                // SAFETY: only tries to load the library.
                assert!(!unsafe { sys::is_culib_present() });
            }
            Err(other) => panic!("a driver is present but the GPU could not be used: {other}"),
            Ok(gpu) => {
                for n in [1, 64, 96, 130] {
                    assert_eq!(gpu.product(&challenge(n)).unwrap(), protocol::solve(&challenge(n)), "n = {n}");
                }
            }
        }
    }
}
