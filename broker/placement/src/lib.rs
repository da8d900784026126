//! Placement: the service-request model, the offer catalogue, the sovereignty policy and explainable, deterministic placement decisions. Pure: no I/O beyond reading files on demand.
