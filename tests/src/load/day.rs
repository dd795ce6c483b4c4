//! The day itself: its shape ([`DayPlan`]), how busy each minute is, and the seeded
//! draw of every request ([`plan`]).

/// The shape of the day.
#[derive(Debug, Clone)]
pub struct DayPlan {
    /// Locations of the chain.
    pub locations: u32,
    /// Orders one location takes in a day, on average.
    pub orders_per_location: u32,
    /// Share of orders refunded (in full) later that day.
    pub refund_share: f64,
    /// Share of order webhooks delivered twice.
    pub duplicate_share: f64,
    /// Share of orders after which the customer buys a voucher and redeems it.
    pub voucher_share: f64,
    /// Seed of every draw.
    pub seed: u64,
}

impl Default for DayPlan {
    fn default() -> Self {
        DayPlan {
            locations: 100,
            orders_per_location: 150,
            refund_share: 0.02,
            duplicate_share: 0.01,
            voucher_share: 0.005,
            seed: 2026,
        }
    }
}

/// What one planned request is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// An `order.paid` webhook.
    Order {
        /// The order's POS id.
        order_id: String,
        /// The customer (index into the chain's customers).
        customer: u64,
        /// Line items.
        lines: usize,
        /// After it is acknowledged, the customer buys a voucher and redeems it.
        voucher: bool,
    },
    /// The same `order.paid` event delivered again.
    Duplicate {
        /// The event delivered again.
        of_event: String,
    },
    /// An `order.refunded` webhook for an earlier order.
    Refund {
        /// The refunded order's POS id.
        order_id: String,
    },
}

/// A request of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Seconds since the day's opening.
    pub at_second: u32,
    /// The location sending it.
    pub location: u32,
    /// The webhook event id (unique per event; a duplicate repeats its original's).
    pub event_id: String,
    /// What it is.
    pub kind: Kind,
}

/// Opening hours, local time: 07:00 to 22:00.
pub const OPEN_MINUTE: u32 = 7 * 60;
/// Closing, local time.
pub const CLOSE_MINUTE: u32 = 22 * 60;

/// How busy a minute of the day is, relative to a quiet one (local minutes since
/// midnight): a lunch peak 11:30–13:30, an evening peak 17:30–20:00, a mid-afternoon
/// bump and quiet mornings and nights.
pub fn intensity(minute: u32) -> f64 {
    match minute {
        m if (11 * 60 + 30..13 * 60 + 30).contains(&m) => 5.0,
        m if (17 * 60 + 30..20 * 60).contains(&m) => 4.0,
        m if (14 * 60 + 30..16 * 60).contains(&m) => 2.0,
        m if (7 * 60..9 * 60).contains(&m) => 1.5,
        m if (OPEN_MINUTE..CLOSE_MINUTE).contains(&m) => 1.0,
        _ => 0.0,
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same day.
#[derive(Debug, Clone)]
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Draws the day: every request with its second since opening, sorted by time.
pub fn plan(day: &DayPlan) -> Vec<Planned> {
    let mut draw = Draw(day.seed);
    // Inverse CDF over the minutes of the day.
    let minutes: Vec<u32> = (OPEN_MINUTE..CLOSE_MINUTE).collect();
    let mut cumulative = Vec::with_capacity(minutes.len());
    let mut total = 0.0;
    for &m in &minutes {
        total += intensity(m);
        cumulative.push(total);
    }
    let orders = u64::from(day.locations) * u64::from(day.orders_per_location);
    // Regulars come back: about three orders per customer over the day's chain.
    let customers = (orders / 3).max(1);
    let day_seconds = (CLOSE_MINUTE - OPEN_MINUTE) * 60;
    let mut planned = Vec::new();
    for n in 0..orders {
        let location = (n % u64::from(day.locations.max(1))) as u32;
        let target = draw.unit() * total;
        let index = cumulative.partition_point(|&c| c <= target);
        let minute = minutes.get(index).copied().unwrap_or(CLOSE_MINUTE - 1);
        let at_second = (minute - OPEN_MINUTE) * 60 + draw.below(60) as u32;
        let order_id = format!("L{location:03}-{n:07}");
        let event_id = format!("evt-{order_id}");
        let voucher = draw.unit() < day.voucher_share;
        planned.push(Planned {
            at_second,
            location,
            event_id: event_id.clone(),
            kind: Kind::Order {
                order_id: order_id.clone(),
                customer: draw.below(customers),
                lines: 1 + draw.below(4) as usize,
                voucher,
            },
        });
        if draw.unit() < day.duplicate_share {
            planned.push(Planned {
                at_second: (at_second + 5 + draw.below(55) as u32).min(day_seconds),
                location,
                event_id: event_id.clone(),
                kind: Kind::Duplicate { of_event: event_id },
            });
        }
        if draw.unit() < day.refund_share {
            planned.push(Planned {
                at_second: (at_second + 20 * 60).min(day_seconds),
                location,
                event_id: format!("evt-R-{order_id}"),
                kind: Kind::Refund { order_id },
            });
        }
    }
    planned.sort_by_key(|p| p.at_second);
    planned
}
