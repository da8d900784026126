//! The Nuage broker service: HTTP API, tenants and auth, audit log, storage, provisioning workflows.
