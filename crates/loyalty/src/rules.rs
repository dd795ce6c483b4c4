//! rules (being written).
