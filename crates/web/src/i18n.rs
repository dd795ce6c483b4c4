//! The interface's words: one table per language. [`Text`] is a struct, so a string
//! missing from a language is a compile error, not an untranslated label.

use actix_web::HttpRequest;
use actix_web::http::header;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Vietnamese.
    Vi,
    /// English.
    En,
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// The BCP 47 code (`vi`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Reads a code; only the primary subtag counts (`vi-VN` is Vietnamese).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: `?lang=`, then the `lang` cookie, then the first
    /// supported language of `Accept-Language` by weight, then English.
    pub fn of(req: &HttpRequest) -> Lang {
        if let Some(lang) = query_lang(req) {
            return lang;
        }
        if let Some(lang) = crate::cookies::get(req, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
            return lang;
        }
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or(Lang::En)
    }

    /// The table of this language.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// The `lang` query parameter, when it names a supported language.
pub fn query_lang(req: &HttpRequest) -> Option<Lang> {
    req.query_string()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// The best supported language of an `Accept-Language` header.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let Some(lang) = pieces.next().and_then(Lang::parse) else {
            continue;
        };
        let weight = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(_, w)| weight > w) {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang)
}

/// Every string of the interface.
#[derive(Debug, serde::Serialize)]
#[allow(missing_docs)]
pub struct Text {
    pub app_name: &'static str,
    pub nav_overview: &'static str,
    pub nav_segments: &'static str,
    pub nav_customers: &'static str,
    pub nav_programme: &'static str,
    pub sign_in: &'static str,
    pub sign_in_intro: &'static str,
    pub sign_out: &'static str,
    pub api_key: &'static str,
    pub bad_key: &'static str,
    pub signed_in_as: &'static str,
    pub role_viewer: &'static str,
    pub role_admin: &'static str,
    pub role_pos: &'static str,
    pub pos_not_allowed: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden_body: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub bad_form: &'static str,
    pub error_title: &'static str,
    pub error_body: &'static str,
    pub overview_title: &'static str,
    pub customers_total: &'static str,
    pub customers_with_visits: &'static str,
    pub at_risk_now: &'static str,
    pub last_run: &'static str,
    pub never_scored: &'static str,
    pub active_customers: &'static str,
    pub revenue: &'static str,
    pub orders: &'static str,
    pub repeat_rate: &'static str,
    pub redemption_rate: &'static str,
    pub pending_report: &'static str,
    pub trend_customers: &'static str,
    pub trend_segments: &'static str,
    pub no_history: &'static str,
    pub segments_title: &'static str,
    pub segment_sizes: &'static str,
    pub new_at_risk: &'static str,
    pub nobody: &'static str,
    pub custom_segments: &'static str,
    pub name: &'static str,
    pub rule: &'static str,
    pub members_now: &'static str,
    pub create_segment: &'static str,
    pub rule_help: &'static str,
    pub segment_saved: &'static str,
    pub customers_title: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub phone: &'static str,
    pub joined: &'static str,
    pub next_page: &'static str,
    pub no_match: &'static str,
    pub profile: &'static str,
    pub balance: &'static str,
    pub points: &'static str,
    pub tier: &'static str,
    pub no_tier: &'static str,
    pub to_next_tier: &'static str,
    pub top_tier: &'static str,
    pub visits: &'static str,
    pub spend: &'static str,
    pub vouchers: &'static str,
    pub no_vouchers: &'static str,
    pub code: &'static str,
    pub expires: &'static str,
    pub p_alive: &'static str,
    pub clv: &'static str,
    pub favourite: &'static str,
    pub next_visit: &'static str,
    pub segments_of: &'static str,
    pub not_scored: &'static str,
    pub order_history: &'static str,
    pub placed_at: &'static str,
    pub total: &'static str,
    pub earned: &'static str,
    pub refunded: &'static str,
    pub ledger: &'static str,
    pub when: &'static str,
    pub kind: &'static str,
    pub amount: &'static str,
    pub none: &'static str,
    pub entry_earn: &'static str,
    pub entry_redeem: &'static str,
    pub entry_expire: &'static str,
    pub entry_reverse: &'static str,
    pub entry_adjust: &'static str,
    pub programme_title: &'static str,
    pub earning_rules: &'static str,
    pub tiers: &'static str,
    pub tiers_help: &'static str,
    pub rewards: &'static str,
    pub cost: &'static str,
    pub active: &'static str,
    pub validity_days: &'static str,
    pub cost_not_number: &'static str,
    pub days_not_number: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub no_programme: &'static str,
    pub card_title: &'static str,
    pub card_hello: &'static str,
    pub card_show_code: &'static str,
    pub link_expired: &'static str,
}

/// English.
pub static EN: Text = Text {
    app_name: "Regulars",
    nav_overview: "Overview",
    nav_segments: "Segments",
    nav_customers: "Customers",
    nav_programme: "Programme",
    sign_in: "Sign in",
    sign_in_intro: "Sign in with a viewer or admin API key of your brand.",
    sign_out: "Sign out",
    api_key: "API key",
    bad_key: "Unknown or revoked API key.",
    signed_in_as: "Signed in as",
    role_viewer: "viewer",
    role_admin: "admin",
    role_pos: "till",
    pos_not_allowed: "Till keys cannot open the dashboard: use a viewer or admin key.",
    forbidden_title: "Not allowed",
    forbidden_body: "This needs an admin key.",
    not_found_title: "Not found",
    not_found_body: "There is nothing here, or the link has expired.",
    bad_form: "The form was out of date; please try again.",
    error_title: "Something went wrong",
    error_body: "Please try again in a moment.",
    overview_title: "Overview",
    customers_total: "Customers",
    customers_with_visits: "Customers with visits",
    at_risk_now: "At risk",
    last_run: "Last scoring run",
    never_scored: "Not scored yet",
    active_customers: "Active customers",
    revenue: "Revenue",
    orders: "Orders",
    repeat_rate: "Repeat rate",
    redemption_rate: "Redemption rate",
    pending_report: "reports coming soon",
    trend_customers: "Customers at each scoring run",
    trend_segments: "Segment sizes at each scoring run",
    no_history: "No scoring runs yet.",
    segments_title: "Segments",
    segment_sizes: "Segment sizes over time",
    new_at_risk: "Moved to \"At risk\" since the last run",
    nobody: "Nobody.",
    custom_segments: "Custom segments",
    name: "Name",
    rule: "Rule",
    members_now: "Members now",
    create_segment: "Create segment",
    rule_help: "For example: recency_days > 30 and visits >= 3",
    segment_saved: "Segment saved.",
    customers_title: "Customers",
    search: "Search",
    search_hint: "Phone or name",
    phone: "Phone",
    joined: "Joined",
    next_page: "Next page",
    no_match: "No customer matches.",
    profile: "Profile",
    balance: "Balance",
    points: "points",
    tier: "Tier",
    no_tier: "No tier yet",
    to_next_tier: "to reach",
    top_tier: "Top tier",
    visits: "Visits",
    spend: "Spend",
    vouchers: "Vouchers",
    no_vouchers: "No active vouchers.",
    code: "Code",
    expires: "Expires",
    p_alive: "Chance still active",
    clv: "Lifetime value",
    favourite: "Favourite item",
    next_visit: "Next visit expected",
    segments_of: "Segments",
    not_scored: "Not scored yet.",
    order_history: "Orders",
    placed_at: "Placed",
    total: "Total",
    earned: "Points earned",
    refunded: "Refunded",
    ledger: "Points ledger",
    when: "When",
    kind: "Kind",
    amount: "Amount",
    none: "None.",
    entry_earn: "earned",
    entry_redeem: "spent",
    entry_expire: "expired",
    entry_reverse: "refund reversal",
    entry_adjust: "adjustment",
    programme_title: "Programme",
    earning_rules: "Earning rules (JSON)",
    tiers: "Tiers (JSON, empty for none)",
    tiers_help: "The documents are described in docs/rules.md.",
    rewards: "Rewards",
    cost: "Cost (points)",
    active: "Active",
    validity_days: "Valid for (days)",
    cost_not_number: "The cost must be a whole number of points.",
    days_not_number: "The validity must be a whole number of days.",
    save: "Save",
    saved: "Saved.",
    no_programme: "This brand has no programme yet.",
    card_title: "Your loyalty card",
    card_hello: "Hello",
    card_show_code: "Show this code at the till",
    link_expired: "This link is not valid any more. Ask the shop for a new one.",
};

/// Vietnamese.
pub static VI: Text = Text {
    app_name: "Regulars",
    nav_overview: "Tổng quan",
    nav_segments: "Phân khúc",
    nav_customers: "Khách hàng",
    nav_programme: "Chương trình",
    sign_in: "Đăng nhập",
    sign_in_intro: "Đăng nhập bằng khóa API xem hoặc quản trị của thương hiệu.",
    sign_out: "Đăng xuất",
    api_key: "Khóa API",
    bad_key: "Khóa API không tồn tại hoặc đã bị thu hồi.",
    signed_in_as: "Đăng nhập với quyền",
    role_viewer: "xem",
    role_admin: "quản trị",
    role_pos: "quầy",
    pos_not_allowed: "Khóa quầy không mở được bảng điều khiển: hãy dùng khóa xem hoặc quản trị.",
    forbidden_title: "Không được phép",
    forbidden_body: "Việc này cần khóa quản trị.",
    not_found_title: "Không tìm thấy",
    not_found_body: "Không có gì ở đây, hoặc liên kết đã hết hạn.",
    bad_form: "Biểu mẫu đã cũ; vui lòng thử lại.",
    error_title: "Đã có lỗi",
    error_body: "Vui lòng thử lại sau ít phút.",
    overview_title: "Tổng quan",
    customers_total: "Khách hàng",
    customers_with_visits: "Khách đã ghé",
    at_risk_now: "Có nguy cơ rời bỏ",
    last_run: "Lần chấm điểm gần nhất",
    never_scored: "Chưa chấm điểm",
    active_customers: "Khách hàng hoạt động",
    revenue: "Doanh thu",
    orders: "Đơn hàng",
    repeat_rate: "Tỷ lệ quay lại",
    redemption_rate: "Tỷ lệ đổi thưởng",
    pending_report: "báo cáo sắp có",
    trend_customers: "Số khách mỗi lần chấm điểm",
    trend_segments: "Quy mô phân khúc mỗi lần chấm điểm",
    no_history: "Chưa có lần chấm điểm nào.",
    segments_title: "Phân khúc",
    segment_sizes: "Quy mô phân khúc theo thời gian",
    new_at_risk: "Chuyển sang \"At risk\" từ lần trước",
    nobody: "Không có ai.",
    custom_segments: "Phân khúc tùy chỉnh",
    name: "Tên",
    rule: "Quy tắc",
    members_now: "Số thành viên hiện tại",
    create_segment: "Tạo phân khúc",
    rule_help: "Ví dụ: recency_days > 30 and visits >= 3",
    segment_saved: "Đã lưu phân khúc.",
    customers_title: "Khách hàng",
    search: "Tìm",
    search_hint: "Số điện thoại hoặc tên",
    phone: "Điện thoại",
    joined: "Ngày tham gia",
    next_page: "Trang sau",
    no_match: "Không có khách hàng phù hợp.",
    profile: "Hồ sơ",
    balance: "Số dư",
    points: "điểm",
    tier: "Hạng",
    no_tier: "Chưa có hạng",
    to_next_tier: "để lên",
    top_tier: "Hạng cao nhất",
    visits: "Lượt ghé",
    spend: "Chi tiêu",
    vouchers: "Phiếu ưu đãi",
    no_vouchers: "Không có phiếu ưu đãi còn hiệu lực.",
    code: "Mã",
    expires: "Hết hạn",
    p_alive: "Khả năng còn hoạt động",
    clv: "Giá trị vòng đời",
    favourite: "Món yêu thích",
    next_visit: "Dự kiến ghé lần tới",
    segments_of: "Phân khúc",
    not_scored: "Chưa chấm điểm.",
    order_history: "Đơn hàng",
    placed_at: "Thời gian",
    total: "Tổng",
    earned: "Điểm tích",
    refunded: "Đã hoàn",
    ledger: "Sổ điểm",
    when: "Khi",
    kind: "Loại",
    amount: "Số lượng",
    none: "Không có.",
    entry_earn: "tích điểm",
    entry_redeem: "đổi điểm",
    entry_expire: "hết hạn",
    entry_reverse: "hoàn đơn",
    entry_adjust: "điều chỉnh",
    programme_title: "Chương trình",
    earning_rules: "Quy tắc tích điểm (JSON)",
    tiers: "Hạng thành viên (JSON, để trống nếu không có)",
    tiers_help: "Cấu trúc tài liệu được mô tả trong docs/rules.md.",
    rewards: "Phần thưởng",
    cost: "Giá (điểm)",
    active: "Đang áp dụng",
    validity_days: "Hiệu lực (ngày)",
    cost_not_number: "Giá phải là số điểm nguyên.",
    days_not_number: "Hiệu lực phải là số ngày nguyên.",
    save: "Lưu",
    saved: "Đã lưu.",
    no_programme: "Thương hiệu chưa có chương trình.",
    card_title: "Thẻ thành viên của bạn",
    card_hello: "Xin chào",
    card_show_code: "Đưa mã này tại quầy",
    link_expired: "Liên kết không còn hiệu lực. Hãy xin cửa hàng liên kết mới.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_supported_language() {
        assert_eq!(
            from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"),
            Some(Lang::Vi)
        );
        assert_eq!(
            from_accept_language("fr;q=1, en;q=0.5, vi;q=0.7"),
            Some(Lang::Vi)
        );
        assert_eq!(from_accept_language("en-GB"), Some(Lang::En));
        assert_eq!(from_accept_language("fr, de"), None);
    }

    #[test]
    fn every_string_is_translated() {
        let table = |t: &Text| match serde_json::to_value(t) {
            Ok(serde_json::Value::Object(map)) => map,
            other => panic!("not a table: {other:?}"),
        };
        let (en, vi) = (table(&EN), table(&VI));
        assert_eq!(en.len(), vi.len());
        // The product's name is the same in every language.
        let same_everywhere = ["app_name"];
        for (key, english) in &en {
            let vietnamese = &vi[key];
            assert!(
                english.as_str().is_some_and(|s| !s.trim().is_empty()),
                "{key}"
            );
            assert!(
                vietnamese.as_str().is_some_and(|s| !s.trim().is_empty()),
                "{key}"
            );
            if !same_everywhere.contains(&key.as_str()) {
                assert_ne!(english, vietnamese, "{key} is not translated");
            }
        }
    }
}
