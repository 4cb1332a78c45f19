//! One writer per database: a Postgres session-level advisory lock held on a connection of its own (outside the
//! pool, so that no idle timeout can end the session and release it) for as long as the service runs.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};

#[derive(Debug, thiserror::Error)]
pub enum WriterLockError {
    #[error("another process already writes as {0} to this database (advisory lock held); stop it first")]
    Held(String),
    #[error("cannot take the writer lock: {0}")]
    Database(#[from] sqlx::Error),
}

/// Held while it lives; [`WriterLock::release`] ends its session at once (dropping it ends the session too, as
/// soon as the server sees the connection close).
pub struct WriterLock {
    connection: PgConnection,
    name: String,
}

impl WriterLock {
    /// How long a start waits for a previous writer that is shutting down (a restart) to let go.
    pub const WAIT: Duration = Duration::from_secs(5);

    /// Takes the lock named `name`, waiting up to [`WriterLock::WAIT`] for a previous holder that is stopping.
    pub async fn acquire(pool: &PgPool, name: &str) -> Result<Self, WriterLockError> {
        let mut connection = pool.acquire().await?.detach();
        let deadline = Instant::now() + Self::WAIT;
        loop {
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                .bind(name)
                .fetch_one(&mut connection)
                .await?;
            if taken {
                return Ok(WriterLock { connection, name: name.to_string() });
            }
            if Instant::now() >= deadline {
                let _ = connection.close().await;
                return Err(WriterLockError::Held(name.to_string()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn release(self) {
        let _ = self.connection.close().await;
    }
}
