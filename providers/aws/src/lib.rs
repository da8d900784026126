//! AWS EC2 and EC2-compatible clouds (Outscale) adapter.
