//! Schemathesis against a running service's own OpenAPI document (`scripts/schemathesis.sh`, format hooks and
//! settings in `tests/schemathesis/`): no server error, every response as documented, schema-invalid requests
//! refused and schema-valid ones never refused for their form.

use std::path::PathBuf;

/// Runs Schemathesis against `base` (`http://host:port`, serving `/openapi.json`); panics with its report when
/// it finds anything.
pub async fn schemathesis(base: &str, examples: u32) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/schemathesis.sh");
    // Schemathesis and Hypothesis keep caches in the working directory: a throwaway one.
    let workdir = tempfile::tempdir().expect("temp dir");
    let output = tokio::process::Command::new(script)
        .current_dir(workdir.path())
        .args(["run", &format!("{base}/openapi.json"), "--checks", "all"])
        // Stateful checks need links between operations, which these documents do not declare.
        .args(["--exclude-checks", "use_after_free,ensure_resource_availability"])
        .args(["--max-examples", &examples.to_string(), "--seed", "20261201", "--workers", "1", "--no-color"])
        .args(["--phases", "examples,coverage,fuzzing", "--generation-database", "none"])
        .output()
        .await
        .expect("scripts/schemathesis.sh runs");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "Schemathesis found problems:\n{report}");
    eprintln!("{}", report.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"));
}
