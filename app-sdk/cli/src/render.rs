//! What a command produced: a JSON value, printed as JSON or as an aligned table.

use serde_json::Value;

use crate::Output;

pub fn render(value: &Value, output: Output) -> String {
    match output {
        Output::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        Output::Table => match value {
            Value::Object(map) => {
                let width = map.keys().map(String::len).max().unwrap_or(0);
                map.iter().map(|(k, v)| format!("{k:width$}  {}", plain(v))).collect::<Vec<_>>().join("\n")
            }
            Value::Array(rows) => rows.iter().map(|r| render(r, output)).collect::<Vec<_>>().join("\n\n"),
            other => plain(other),
        },
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
