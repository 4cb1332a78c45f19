//! The challenge's kernels for the GPU: `cuda/challenge.cu`, compiled to PTX by `scripts/cuda/ptx.sh` (nvcc from
//! Debian's non-free `nvidia-cuda-toolkit`, assembled by ptxas for sm_80 and sm_90 when generated) and checked
//! in beside its source, so that building the agent needs nothing NVIDIA: the driver JIT-compiles the PTX on
//! the host that runs it. The tests below fail when the PTX no longer matches its source.

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

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

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
}
