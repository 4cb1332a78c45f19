//! Which container a process runs in, from `/proc/<pid>/cgroup`: the renter's allow-list names containers, and a
//! GPU process in none of them is foreign.

/// The container id of `pid`, or `None` for a process outside any container (or one that has exited).
pub fn container_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok().and_then(|text| container_in(&text))
}

/// Parses cgroup v1 or v2 lines as written by Docker, containerd/CRI (Kubernetes) and Podman.
pub fn container_in(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.rsplit(':').next()?;
        let last = path.rsplit('/').next()?;
        let id = last
            .strip_prefix("docker-")
            .or_else(|| last.strip_prefix("cri-containerd-"))
            .or_else(|| last.strip_prefix("crio-"))
            .or_else(|| last.strip_prefix("libpod-"))
            .map(|rest| rest.trim_end_matches(".scope"))
            .or_else(|| path.contains("/docker/").then_some(last))
            .filter(|id| id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit()))?;
        Some(id.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f1c2b3a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";

    #[test]
    fn docker_cgroup_v2() {
        assert_eq!(container_in(&format!("0::/system.slice/docker-{ID}.scope\n")), Some(ID.into()));
    }

    #[test]
    fn docker_cgroup_v1() {
        let text = format!("12:memory:/docker/{ID}\n11:cpu:/docker/{ID}\n");
        assert_eq!(container_in(&text), Some(ID.into()));
    }

    #[test]
    fn kubernetes_containerd() {
        let text = format!("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-{ID}.scope\n");
        assert_eq!(container_in(&text), Some(ID.into()));
    }

    #[test]
    fn host_processes_have_no_container() {
        assert_eq!(container_in("0::/user.slice/user-0.slice/session-3.scope\n"), None);
        assert_eq!(container_in("0::/\n"), None);
        assert_eq!(container_of(u32::MAX), None, "no such process");
    }
}
