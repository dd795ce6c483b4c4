//! rewards (being written).
