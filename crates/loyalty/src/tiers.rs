//! tiers (being written).
