//! Benchmark output: a Markdown table on stdout and the same figures in `target/bench/<name>.json`.

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
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
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
