//! Which image a container runs, from the container runtime: the oracles judge every GPU process by its image
//! against the renter's workload on chain, so the agent reports what the runtime says the process runs, not
//! a list of its own.
//!
//! Docker's Engine API over its Unix socket (`GET /containers/{id}/json`); containerd and CRI-O expose no such
//! API without a gRPC client, and their processes are reported without an image (judged foreign when the renter
//! declared a workload: a supplier on those runtimes must run the renter's job under Docker).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// What the runtime says of a container's image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageOf {
    /// The image id (`sha256:…`): immutable, what a renter pins.
    pub image: Option<String>,
    /// The reference the container was created from (`ghcr.io/org/job:v3`).
    pub image_name: Option<String>,
}

pub struct Docker {
    pub socket: PathBuf,
    /// Images by container id: a container's image never changes, so each is asked once.
    known: HashMap<String, ImageOf>,
}

/// A slow or wedged daemon must not hold up the heartbeat.
const TIMEOUT: Duration = Duration::from_secs(2);
/// An inspect answer is a few kilobytes; anything far larger is not Docker.
const MAX_ANSWER: u64 = 1 << 20;

impl Docker {
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Docker { socket: socket.into(), known: HashMap::new() }
    }

    /// The image of container `id`, or nothing when the runtime cannot tell (no daemon, no such container).
    /// Only answers are remembered: a daemon that was down is asked again next time.
    pub fn image_of(&mut self, id: &str) -> ImageOf {
        if let Some(known) = self.known.get(id) {
            return known.clone();
        }
        match self.inspect(id) {
            Some(found) => {
                self.known.insert(id.to_string(), found.clone());
                found
            }
            None => ImageOf::default(),
        }
    }

    fn inspect(&self, id: &str) -> Option<ImageOf> {
        // Container ids from cgroups are hex; anything else never reaches the request line.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut stream = UnixStream::connect(&self.socket).ok()?;
        stream.set_read_timeout(Some(TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(TIMEOUT)).ok()?;
        // HTTP/1.0: the daemon closes the connection after the answer, so reading to the end is the framing.
        write!(stream, "GET /containers/{id}/json HTTP/1.0\r\nHost: docker\r\n\r\n").ok()?;
        let mut answer = Vec::new();
        stream.take(MAX_ANSWER).read_to_end(&mut answer).ok()?;
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text.split_once("\r\n\r\n")?;
        if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1) != Some("200") {
            return None;
        }
        let json: serde_json::Value = serde_json::from_str(body).ok()?;
        let text_at = |pointer: &str| json.pointer(pointer).and_then(|v| v.as_str()).map(str::to_string);
        Some(ImageOf { image: text_at("/Image"), image_name: text_at("/Config/Image") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    const ID: &str = "4f1c2b3a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";

    /// A daemon on a Unix socket that answers each request with `answer` and records the request lines.
    fn daemon(answer: &'static str) -> (tempfile::TempDir, PathBuf, std::sync::mpsc::Receiver<String>) {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut request = [0u8; 512];
                let n = stream.read(&mut request).unwrap();
                let line = String::from_utf8_lossy(&request[..n]).lines().next().unwrap_or("").to_string();
                let _ = tx.send(line);
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        (dir, socket, rx)
    }

    #[test]
    fn reads_the_image_id_and_name_once_per_container() {
        let (_dir, socket, requests) = daemon(
            "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n\
             {\"Id\":\"4f1c\",\"Image\":\"sha256:9a8b\",\"Config\":{\"Image\":\"ghcr.io/renter/job:v3\"}}",
        );
        let mut docker = Docker::new(&socket);
        let found = docker.image_of(ID);
        assert_eq!(found.image.as_deref(), Some("sha256:9a8b"));
        assert_eq!(found.image_name.as_deref(), Some("ghcr.io/renter/job:v3"));
        assert_eq!(requests.recv().unwrap(), format!("GET /containers/{ID}/json HTTP/1.0"));
        assert_eq!(docker.image_of(ID), found);
        assert!(requests.try_recv().is_err(), "the second lookup came from memory");
    }

    #[test]
    fn an_unknown_container_a_missing_daemon_or_a_strange_id_tell_nothing() {
        let (_dir, socket, _requests) = daemon("HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"No such container\"}");
        assert_eq!(Docker::new(&socket).image_of(ID), ImageOf::default());
        assert_eq!(Docker::new("/nonexistent/docker.sock").image_of(ID), ImageOf::default());
        let (_dir, socket, requests) = daemon("HTTP/1.0 200 OK\r\n\r\n{}");
        assert_eq!(Docker::new(&socket).image_of("../../images/json?x="), ImageOf::default());
        assert!(requests.try_recv().is_err(), "nothing was sent for an id that is not hex");
    }
}
