//! The overview's table by staff member: what each did at the till in the period, per
//! location (orders rung up, revenue, sign-ups, vouchers redeemed), with the total.

use crate::i18n::Lang;
use maud::{Markup, html};
use regulars_campaigns::render::format_money;
use regulars_service::StaffReportView;

struct Words {
    heading: &'static str,
    staff: &'static str,
    location: &'static str,
    orders: &'static str,
    revenue: &'static str,
    sign_ups: &'static str,
    vouchers: &'static str,
    total: &'static str,
    none: &'static str,
}

const EN: Words = Words {
    heading: "By staff member",
    staff: "Staff member",
    location: "Location",
    orders: "Orders",
    revenue: "Revenue",
    sign_ups: "Sign-ups",
    vouchers: "Vouchers redeemed",
    total: "Total",
    none: "Nothing was done at a till in this period.",
};

const VI: Words = Words {
    heading: "Theo nhân viên",
    staff: "Nhân viên",
    location: "Cửa hàng",
    orders: "Đơn hàng",
    revenue: "Doanh thu",
    sign_ups: "Khách đăng ký",
    vouchers: "Voucher đã dùng",
    total: "Tổng",
    none: "Không có thao tác nào tại quầy trong kỳ này.",
};

/// The table of `view`.
pub(crate) fn table(lang: Lang, view: &StaffReportView) -> Markup {
    let w = match lang {
        Lang::En => &EN,
        Lang::Vi => &VI,
    };
    let report = &view.report;
    html! {
        section {
            h2 { (w.heading) }
            @if report.rows.is_empty() { p.muted { (w.none) } }
            @else {
                table #by-staff {
                    tr {
                        th { (w.staff) } th { (w.location) } th { (w.orders) } th { (w.revenue) }
                        th { (w.sign_ups) } th { (w.vouchers) }
                    }
                    @for row in report.rows.iter().chain(std::iter::once(&report.total)) {
                        @let total = std::ptr::eq(row, &report.total);
                        tr data-staff=[row.staff.map(|s| s.to_string())] class=[total.then_some("total")] {
                            td.key {
                                @if total { (w.total) }
                                @else { (row.staff.and_then(|s| view.names.get(&s).cloned()).unwrap_or_default()) }
                            }
                            td { (row.location.clone().unwrap_or_default()) }
                            td.orders { (row.orders) }
                            td.revenue { data value=(row.revenue.amount().to_string()) { (format_money(&row.revenue)) } }
                            td.sign-ups { (row.sign_ups) }
                            td.vouchers { (row.vouchers_redeemed) }
                        }
                    }
                }
            }
        }
    }
}
