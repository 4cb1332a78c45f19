//! Who computes a challenge's product: the GPU when this host has the CUDA driver, else the CPU (CI, hosts
//! without CUDA, the demo's simulated workers), which the GPU classes' deadlines refuse anyway.

use std::sync::Mutex;

use timelock_protocol::challenge::{self, Challenge};

use crate::gpu::{GpuError, GpuSolver};

/// The largest challenge the CPU solver attempts: beyond, the product costs minutes and gigabytes of memory, and
/// misses any GPU class's deadline anyway (the challenge fails by its deadline instead).
pub const CPU_SOLVER_MAX_SIZE: u32 = 2_048;

pub enum Solver {
    /// One product at a time: the GPU is one, and the oracles' challenges are served from several threads.
    Gpu(Mutex<GpuSolver>),
    Cpu,
}

impl Solver {
    /// The GPU when its driver and device answer, else the CPU with the reason.
    pub fn detect() -> (Solver, Option<GpuError>) {
        match GpuSolver::open() {
            Ok(gpu) => (Solver::Gpu(Mutex::new(gpu)), None),
            Err(why) => (Solver::Cpu, Some(why)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Solver::Gpu(gpu) => format!("GPU ({})", gpu.lock().expect("solver lock").device),
            Solver::Cpu => "CPU".into(),
        }
    }

    /// C = A·B mod p for the challenge, row-major.
    pub fn product(&self, challenge: &Challenge) -> Result<Vec<u32>, String> {
        match self {
            Solver::Gpu(gpu) => gpu.lock().expect("solver lock").product(challenge).map_err(|e| e.to_string()),
            Solver::Cpu if challenge.size > CPU_SOLVER_MAX_SIZE => {
                Err(format!("a {0} × {0} challenge needs the GPU solver", challenge.size))
            }
            Solver::Cpu => Ok(challenge::solve(challenge)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_solver_answers_what_it_can_and_refuses_gpu_sizes() {
        let challenge = |size| Challenge { id: 1, seed: [3; 32], size, oracle: [0; 32] };
        assert_eq!(Solver::Cpu.product(&challenge(16)).unwrap(), challenge::solve(&challenge(16)));
        let refused = Solver::Cpu.product(&challenge(8_192)).unwrap_err();
        assert!(refused.contains("needs the GPU solver"), "{refused}");
        assert_eq!(Solver::Cpu.describe(), "CPU");
    }
}
