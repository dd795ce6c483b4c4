//! Zalo ZNS template parameters: each parameter of an approved template has a type
//! (Zalo's "cài đặt kỹ thuật", technical setting) that bounds the value sent for it.
//!
//! Zalo Cloud, "Các định dạng dữ liệu khi truyền vào tham số trên nội dung ZNS"
//! (`zalo.cloud/zns/guidelines/…/cac-dinh-dang-du-lieu-khi-truyen-vao-tham-so-tren-noi-dung-zns`):
//! a `<customer_name>` parameter set up as "Tên khách hàng (30)" takes at most 30
//! characters, and dates go as `dd/mm/yyyy`. Its upload guide adds that most parameters
//! take 30 characters. The other limits (code 30, custom label 30, product or brand
//! 200, amount 20, time 20) are those of the ZNS parameter types as third-party SDKs list
//! them; no stored copy of Zalo's full table was found. Zalo answers an empty or
//! malformed value with -111/-112, a permanent refusal.
//!
//! ```
//! use regulars_domain::zns::ZnsParamType;
//! assert!(ZnsParamType::CustomerName.check("Nguyễn Thị Minh Khai").is_ok());
//! let err = ZnsParamType::CustomerName.check(&"a".repeat(31)).unwrap_err();
//! assert_eq!(err, "is 31 characters, more than the 30 a customer_name parameter takes");
//! assert!(ZnsParamType::Amount.check("").is_err());
//! ```

use serde::{Deserialize, Serialize};

/// The type of a ZNS template parameter, as set on the template in Zalo's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZnsParamType {
    /// "Tên khách hàng": a customer's name, at most 30 characters.
    CustomerName,
    /// "Mã số": a code (voucher, order), at most 30 characters.
    Code,
    /// "Nhãn tùy chỉnh": a custom label, at most 30 characters.
    Label,
    /// "Tên sản phẩm / Thương hiệu": a product or brand name, at most 200 characters.
    Product,
    /// "Số tiền" / "Số lượng": an amount or a quantity, digits with `.` or `,` grouping,
    /// at most 20 characters.
    Amount,
    /// "Thời gian": a date `dd/mm/yyyy` (or a time with it), at most 20 characters.
    Time,
}

impl ZnsParamType {
    /// Every type, in declaration order.
    pub const ALL: [ZnsParamType; 6] = [
        ZnsParamType::CustomerName,
        ZnsParamType::Code,
        ZnsParamType::Label,
        ZnsParamType::Product,
        ZnsParamType::Amount,
        ZnsParamType::Time,
    ];

    /// Most characters a value of this type may have.
    #[must_use]
    pub fn max_chars(self) -> usize {
        match self {
            ZnsParamType::CustomerName | ZnsParamType::Code | ZnsParamType::Label => 30,
            ZnsParamType::Product => 200,
            ZnsParamType::Amount | ZnsParamType::Time => 20,
        }
    }

    /// The name used in campaign documents and messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ZnsParamType::CustomerName => "customer_name",
            ZnsParamType::Code => "code",
            ZnsParamType::Label => "label",
            ZnsParamType::Product => "product",
            ZnsParamType::Amount => "amount",
            ZnsParamType::Time => "time",
        }
    }

    /// Checks a value for a parameter of this type; the error says what is wrong (to
    /// follow the parameter's name).
    pub fn check(self, value: &str) -> Result<(), String> {
        let chars = value.chars().count();
        if value.trim().is_empty() {
            return Err("is empty (Zalo refuses empty template data)".to_owned());
        }
        if chars > self.max_chars() {
            return Err(format!(
                "is {chars} characters, more than the {} a {} parameter takes",
                self.max_chars(),
                self.as_str()
            ));
        }
        match self {
            ZnsParamType::Amount
                if !value
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' '))
                    || !value.chars().any(|c| c.is_ascii_digit()) =>
            {
                Err(format!("`{value}` is not an amount (digits, `.` or `,`)"))
            }
            ZnsParamType::Time if !is_time(value) => Err(format!(
                "`{value}` is not a date `dd/mm/yyyy` (with an optional `hh:mm`), as Zalo asks"
            )),
            _ => Ok(()),
        }
    }
}

/// `dd/mm/yyyy`, optionally with `hh:mm` or `hh:mm:ss` before or after it: Zalo takes
/// `09/02/2001`, not `9/2/2001`.
fn is_time(value: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let date = |t: &str| {
        let parts: Vec<&str> = t.split('/').collect();
        matches!(parts.as_slice(), [d, m, y] if digits(d, 2) && digits(m, 2) && digits(y, 4))
    };
    let clock = |t: &str| {
        let parts: Vec<&str> = t.split(':').collect();
        (2..=3).contains(&parts.len()) && parts.iter().all(|p| digits(p, 2))
    };
    let tokens: Vec<&str> = value.split_whitespace().collect();
    match tokens.as_slice() {
        [d] => date(d),
        [a, b] => (date(a) && clock(b)) || (clock(a) && date(b)),
        _ => false,
    }
}

/// Whether `name` is a parameter name Zalo accepts: lowercase ASCII letters, digits
/// and `_`, 1 to 50 characters ("không đặt tham số có dấu, không sử dụng dấu cách, dấu
/// gạch nối; mỗi từ được ngăn cách bằng dấu gạch dưới", Zalo Cloud, "Tham số (Param)
/// là gì?").
#[must_use]
pub fn is_param_name(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_type() {
        for t in ZnsParamType::ALL {
            let fits = match t {
                ZnsParamType::Time => "09/02/2001 14:30:05".to_owned(),
                _ => "1".repeat(t.max_chars()),
            };
            assert!(t.check(&fits).is_ok(), "{t:?}");
            let over = "1".repeat(t.max_chars() + 1);
            assert!(t.check(&over).is_err(), "{t:?}");
            assert!(t.check(" ").is_err(), "{t:?}");
        }
        // Characters, not bytes: 30 accented letters fit a name.
        assert!(ZnsParamType::CustomerName.check(&"ễ".repeat(30)).is_ok());
        assert!(ZnsParamType::Amount.check("1.250").is_ok());
        assert!(ZnsParamType::Amount.check("nhiều").is_err());
        assert!(ZnsParamType::Time.check("31/12/2026").is_ok());
        // Zalo Cloud's upload guide: "09/02/2001 là định dạng ĐÚNG; 9/2/2001 là định
        // dạng SAI".
        assert!(ZnsParamType::Time.check("09/02/2001").is_ok());
        assert!(ZnsParamType::Time.check("9/2/2001").is_err());
        assert!(ZnsParamType::Time.check("14:30 09/02/2001").is_ok());
        assert!(ZnsParamType::Time.check("09/02/2001 14:30:05").is_ok());
        assert!(ZnsParamType::Time.check("sắp tới").is_err());
    }

    #[test]
    fn parameter_names() {
        assert!(is_param_name("customer_name"));
        assert!(is_param_name("ma_giam_gia2"));
        assert!(!is_param_name("tên"));
        assert!(!is_param_name("customer-name"));
        assert!(!is_param_name("Customer"));
        assert!(!is_param_name(""));
    }
}
