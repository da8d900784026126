//! The provider contract every cloud adapter implements, and the in-memory sim cloud.
