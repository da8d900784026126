//! Cross-crate end-to-end, multi-process and crash tests, and the harness that starts real components for them.
