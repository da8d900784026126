//! A durable workflow engine on SQLite and PostgreSQL: checkpointed steps, retries, leases with fencing epochs, compensation. Knows nothing of clouds.
