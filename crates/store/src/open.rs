use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A handle to a project's SQLite database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `path` in WAL mode and
    /// applies any pending migrations.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(open_error)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A large ingest grows the write-ahead log to the size of what it
            // wrote; cap what stays on disk after each checkpoint.
            .pragma("journal_size_limit", (64 * 1024 * 1024).to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        MIGRATOR.run(&pool).await.map_err(|source| StoreError::Migrate {
            path: path.to_owned(),
            source,
        })?;
        Ok(Store { pool })
    }

    /// Waits for every connection to finish and closes the database, so the
    /// WAL is checkpointed before the process exits.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The journal mode in effect (`wal` for every project).
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&self.pool).await?;
        Ok(mode)
    }

    /// The migrations applied so far, by version.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        Ok(versions)
    }
}
