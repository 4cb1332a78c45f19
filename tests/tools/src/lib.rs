//! Benchmark output (`make bench`): a Markdown table on stdout and the same figures in `target/bench/<name>.json`.

use std::path::PathBuf;

pub struct Row {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
}

pub fn report(name: &str, rows: &[Row]) -> std::io::Result<PathBuf> {
    println!("\n### {name}\n\n| row | value | unit |\n|---|---:|---|");
    for row in rows {
        println!("| {} | {} | {} |", row.name, format_value(row.value), row.unit);
    }
    let rows_json: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|row| (row.name.clone(), serde_json::json!({ "value": row.value, "unit": row.unit })))
        .collect();
    let json = serde_json::json!({ "name": name, "rows": rows_json });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json)? + "\n")?;
    Ok(path)
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// A whole HTTP/1.1 request, built before a load test so that the load generator costs as little as wrk's.
pub fn http_request(method: &str, host: &str, path: &str, body: &str) -> Vec<u8> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n");
    if !body.is_empty() {
        request.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    request.into_bytes()
}

/// Reads one HTTP/1.1 response (headers and a Content-Length body) from a kept-alive connection and returns
/// its status.
pub async fn read_response(stream: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) -> u16 {
    use tokio::io::AsyncReadExt;
    buffer.clear();
    loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.expect("receive");
        assert!(n > 0, "the server closed the connection");
        buffer.extend_from_slice(&chunk[..n]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize =
            head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap_or(0));
        if buffer.len() >= end + 4 + length {
            return head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        }
    }
}
