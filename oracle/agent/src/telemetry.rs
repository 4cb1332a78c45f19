//! Where GPU telemetry comes from: NVML on a GPU host (the driver's library, loaded at run time, so the agent
//! builds and runs anywhere), or a JSON file for machines without a GPU (tests, the demo's simulated workers).

use std::path::PathBuf;

use nvml_wrapper::Nvml;
use timelock_protocol::{GpuProcess, GpuSample};

use crate::runtime::Docker;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("NVML is not available ({0}): this host has no NVIDIA driver; use `--telemetry-file` to simulate one")]
    NoNvml(String),
    #[error("NVML query failed: {0}")]
    Nvml(String),
    #[error("cannot read telemetry file {0}: {1}")]
    File(PathBuf, String),
}

pub trait TelemetrySource {
    fn sample(&mut self) -> Result<Vec<GpuSample>, TelemetryError>;
}

/// Reads `[GpuSample, ...]` from a JSON file at every sample, so a test or the demo can change what a simulated
/// worker reports (a foreign process appearing, a GPU vanishing) while the agent runs.
pub struct FileSource {
    pub path: PathBuf,
}

impl TelemetrySource for FileSource {
    fn sample(&mut self) -> Result<Vec<GpuSample>, TelemetryError> {
        let text =
            std::fs::read_to_string(&self.path).map_err(|e| TelemetryError::File(self.path.clone(), e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| TelemetryError::File(self.path.clone(), e.to_string()))
    }
}

pub struct NvmlSource {
    nvml: Nvml,
    runtime: Docker,
}

impl NvmlSource {
    pub fn open(runtime: Docker) -> Result<Self, TelemetryError> {
        Nvml::init().map(|nvml| NvmlSource { nvml, runtime }).map_err(|e| TelemetryError::NoNvml(e.to_string()))
    }
}

/// A GPU process as the oracles judge it: its container and that container's image.
pub fn describe_process(pid: u32, runtime: &mut Docker) -> GpuProcess {
    let container = crate::cgroup::container_of(pid);
    let image = container.as_deref().map(|id| runtime.image_of(id)).unwrap_or_default();
    GpuProcess { pid, container, image: image.image, image_name: image.image_name }
}

fn nvml_error(e: impl std::fmt::Display) -> TelemetryError {
    TelemetryError::Nvml(e.to_string())
}

impl TelemetrySource for NvmlSource {
    fn sample(&mut self) -> Result<Vec<GpuSample>, TelemetryError> {
        let count = self.nvml.device_count().map_err(nvml_error)?;
        (0..count)
            .map(|index| {
                let device = self.nvml.device_by_index(index).map_err(nvml_error)?;
                let processes = device
                    .running_compute_processes()
                    .map_err(nvml_error)?
                    .into_iter()
                    .map(|p| describe_process(p.pid, &mut self.runtime))
                    .collect();
                Ok(GpuSample {
                    uuid: device.uuid().map_err(nvml_error)?,
                    model: catalog_model(&device.name().map_err(nvml_error)?),
                    utilization_pct: device.utilization_rates().map_err(nvml_error)?.gpu.min(100) as u8,
                    memory_used_mib: device.memory_info().map_err(nvml_error)?.used / (1024 * 1024),
                    processes,
                })
            })
            .collect()
    }
}

/// The catalog name (what workers register on chain and oracles compare with) of an NVML device name, e.g.
/// "NVIDIA H100 80GB HBM3" → "H100-SXM". Unknown names pass through unchanged.
pub fn catalog_model(nvml_name: &str) -> String {
    let name = nvml_name.to_ascii_uppercase();
    let has = |part: &str| name.contains(part);
    let model = if has("H100") {
        if has("PCIE") {
            "H100-PCIE"
        } else {
            "H100-SXM"
        }
    } else if has("H200") {
        "H200"
    } else if has("B200") {
        "B200"
    } else if has("A100") {
        if has("80GB") {
            "A100-80G"
        } else {
            "A100-40G"
        }
    } else if has("L40S") {
        "L40S"
    } else if has("4090") {
        "RTX-4090"
    } else if has("3090") {
        "RTX-3090"
    } else if has("A6000") {
        "A6000"
    } else {
        return nvml_name.to_string();
    };
    model.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvml_names_map_to_catalog_models() {
        assert_eq!(catalog_model("NVIDIA H100 80GB HBM3"), "H100-SXM");
        assert_eq!(catalog_model("NVIDIA H100 PCIe"), "H100-PCIE");
        assert_eq!(catalog_model("NVIDIA A100-SXM4-80GB"), "A100-80G");
        assert_eq!(catalog_model("NVIDIA A100-PCIE-40GB"), "A100-40G");
        assert_eq!(catalog_model("NVIDIA GeForce RTX 4090"), "RTX-4090");
        assert_eq!(catalog_model("Tesla T4"), "Tesla T4");
    }

    #[test]
    fn file_source_reads_the_file_fresh_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gpus.json");
        let gpu = |pids: &[u32]| GpuSample {
            uuid: "GPU-1".into(),
            model: "H100-SXM".into(),
            utilization_pct: 90,
            memory_used_mib: 100,
            processes: pids
                .iter()
                .map(|pid| GpuProcess {
                    pid: *pid,
                    container: Some("4f1c2b3a9d8e".into()),
                    image: Some("sha256:9a8b".into()),
                    image_name: Some("ghcr.io/renter/job:v1".into()),
                })
                .collect(),
        };
        std::fs::write(&path, serde_json::to_string(&vec![gpu(&[1])]).unwrap()).unwrap();
        let mut source = FileSource { path: path.clone() };
        assert_eq!(source.sample().unwrap(), vec![gpu(&[1])]);
        std::fs::write(&path, serde_json::to_string(&vec![gpu(&[1, 2])]).unwrap()).unwrap();
        assert_eq!(source.sample().unwrap()[0].processes.len(), 2);
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(source.sample(), Err(TelemetryError::File(..))));
    }

    #[test]
    fn without_a_driver_nvml_says_so() {
        // CI machines have no NVIDIA driver; on a GPU host this opens and samples instead.
        match NvmlSource::open(Docker::new("/var/run/docker.sock")) {
            Err(error) => assert!(error.to_string().contains("--telemetry-file"), "{error}"),
            Ok(mut source) => assert!(!source.sample().unwrap().is_empty()),
        }
    }
}
