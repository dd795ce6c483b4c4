//! Customer models of Regulars: what each customer's purchase history says about them —
//! how regularly they come and when they are due ([`habits::regularity`]), which items go
//! together and what to offer them ([`habits::affinity`]), and when they are most likely
//! to read a message ([`habits::send_time`]). The crate is pure: no I/O, no clock; "now"
//! is always an argument.

pub mod habits;
