//! The services' errors: `{"error": {"code": "...", "message": "..."}}` with the HTTP status of the code. Every
//! code is a variant of [`ErrorCode`]; the README's tables and the OpenAPI documents are written from it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

macro_rules! error_codes {
    ($($variant:ident = $name:literal, $status:ident, $when:literal;)*) => {
        /// What went wrong, as a client can branch on it.
        #[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name),* }
            }

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),* }
            }

            /// When a service answers it.
            pub fn when(self) -> &'static str {
                match self { $(ErrorCode::$variant => $when),* }
            }

            /// The README's table of every code (`tests` check that the README holds exactly this).
            pub fn markdown_table() -> String {
                let mut table = String::from("| status | `error.code` | when |\n|---|---|---|\n");
                for code in Self::ALL {
                    table.push_str(&format!("| {} | `{}` | {} |\n", code.status().as_u16(), code.as_str(), code.when()));
                }
                table
            }
        }
    };
}

error_codes! {
    BadFilter = "bad_filter", BAD_REQUEST, "a query parameter is unknown, malformed or out of range";
    BadAddress = "bad_address", BAD_REQUEST, "an address is not a base58 public key";
    Malformed = "malformed", BAD_REQUEST, "the body is not JSON, not the expected message, or a field is out of range";
    BadSignature = "bad_signature", UNAUTHORIZED, "not signed by the device key registered in the worker's account (a renter report: not granted by the cluster's renter, or not signed by the granted probe)";
    UnknownWorker = "unknown_worker", NOT_FOUND, "no such worker account";
    UnknownSupplier = "unknown_supplier", NOT_FOUND, "no such supplier account";
    UnknownCluster = "unknown_cluster", NOT_FOUND, "no such cluster account";
    UnknownLease = "unknown_lease", NOT_FOUND, "no such lease account, or the lease is another worker's (a renter report: not the grant's lease)";
    UnknownChallenge = "unknown_challenge", NOT_FOUND, "no such challenge for this worker";
    NoSuchRoute = "no_such_route", NOT_FOUND, "no such route";
    Replay = "replay", CONFLICT, "the sequence is not above the last one stored for the worker (a renter report: already stored for the probe)";
    AlreadyAnswered = "already_answered", CONFLICT, "the challenge has an answer (or, for a commitment, a commitment)";
    NotCommitted = "not_committed", CONFLICT, "an opening of a challenge that has no commitment yet";
    BodyTooLarge = "body_too_large", PAYLOAD_TOO_LARGE, "the body is over the configured limit";
    BadCursor = "bad_cursor", UNPROCESSABLE_ENTITY, "a cursor is not one the API returned for this list and order";
    TooOld = "too_old", UNPROCESSABLE_ENTITY, "a timestamp is behind the oracle's clock by more than the skew, or a challenge or a renter's probe grant expired";
    TooNew = "too_new", UNPROCESSABLE_ENTITY, "a timestamp is ahead of the oracle's clock by more than the skew";
    LeaseNotActive = "lease_not_active", UNPROCESSABLE_ENTITY, "the oracle received the heartbeat outside the lease's span";
    IdMismatch = "id_mismatch", UNPROCESSABLE_ENTITY, "the answer's challenge id is not the one in the URL";
    Overloaded = "overloaded", TOO_MANY_REQUESTS, "the write queue is full; retry after a second";
    TooFrequent = "too_frequent", TOO_MANY_REQUESTS, "a renter report for a lease that had one less than an interval ago";
    Internal = "internal", INTERNAL_SERVER_ERROR, "a fault of the service (logged); retry later";
    DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE, "Postgres cannot be reached";
    ChainUnavailable = "chain_unavailable", SERVICE_UNAVAILABLE, "the chain cannot be read right now";
    StorageUnavailable = "storage_unavailable", SERVICE_UNAVAILABLE, "the heartbeat could not be stored; retry";
    ShuttingDown = "shutting_down", SERVICE_UNAVAILABLE, "the service is stopping";
    NotReady = "not_ready", SERVICE_UNAVAILABLE, "`/ready`: the database is unreachable or a background loop has stopped succeeding (the message says which)";
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

/// An error answered as `{"error": {"code": "...", "message": "..."}}` with its code's HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// A failure of ours, not the caller's: logged in full, answered without internals.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        Self::new(ErrorCode::Internal, format!("{context}; try again later"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message } };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_code() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let table = ErrorCode::markdown_table();
        assert!(readme.contains(&table), "README.md's error table differs from ErrorCode; replace it with:\n{table}");
    }

    #[test]
    fn each_code_is_served_under_its_name() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
