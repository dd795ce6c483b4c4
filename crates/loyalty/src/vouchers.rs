//! vouchers (being written).
