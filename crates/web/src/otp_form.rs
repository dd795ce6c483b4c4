//! The two forms of proving a phone with a one-time code, "send me a code" and "enter
//! the code", and how a refused code reads, for every customer page that asks for one
//! (the sign-up page; the card page's own requests).
//!
//! The forms never show the phone number back and the messages never depend on whether
//! the phone belongs to a customer: the answers for members and strangers are the same.

use actix_web::http::StatusCode;
use maud::{Markup, html};
use regulars_service::OtpError;

/// The words of the forms, in the page's language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OtpLabels {
    /// "Your phone number".
    pub phone: &'static str,
    /// "Send me a code".
    pub send_code: &'static str,
    /// What was done, shown above the code field.
    pub code_sent: &'static str,
    /// "Code (6 digits)".
    pub code: &'static str,
    /// "Confirm".
    pub confirm: &'static str,
    /// "Send a new code".
    pub resend: &'static str,
}

/// The phone form, posting `phone` and `csrf` to `action`.
pub(crate) fn phone_form(
    labels: &OtpLabels,
    action: &str,
    csrf: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        form #otp-phone-form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            label for="otp-phone" { (labels.phone) }
            input #otp-phone type="text" name="phone" inputmode="tel" autocomplete="tel" required;
            @if let Some(error) = error { p.error #otp-error { (error) } }
            button #otp-send type="submit" { (labels.send_code) }
        }
    }
}

/// The code form, posting `code` and `csrf` to `action`, and a button asking for a new
/// code at `resend_action`.
pub(crate) fn code_form(
    labels: &OtpLabels,
    action: &str,
    resend_action: &str,
    csrf: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        p.note #otp-sent { (labels.code_sent) }
        form #otp-code-form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            label for="otp-code" { (labels.code) }
            input #otp-code type="text" name="code" inputmode="numeric" pattern="[0-9]{6}"
                maxlength="6" autocomplete="one-time-code" autofocus required;
            @if let Some(error) = error { p.error #otp-error { (error) } }
            button #otp-confirm type="submit" { (labels.confirm) }
        }
        form #otp-resend-form method="post" action=(resend_action) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="resend" value="1";
            button.link #otp-resend type="submit" style="color:#0b6bcb" { (labels.resend) }
        }
    }
}

/// How a refused code or send is answered: the status, and which message to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 422: not six digits.
    Malformed,
    /// 422: wrong, expired or never sent.
    Wrong,
    /// 423: five guesses at this code.
    Locked,
    /// 429 with `Retry-After` seconds.
    TooMany(u64),
}

impl Refusal {
    /// The refusal of a one-time code error; `None` for a failure of storage or an
    /// unknown brand (the caller's 500 or 404).
    pub(crate) fn of(error: &OtpError) -> Option<Refusal> {
        match error {
            OtpError::MalformedCode => Some(Refusal::Malformed),
            OtpError::WrongCode { .. } => Some(Refusal::Wrong),
            OtpError::Locked => Some(Refusal::Locked),
            OtpError::TooManyCodes { .. } | OtpError::TooManyGuesses { .. } => {
                let seconds = error
                    .retry_after()
                    .map_or(60, |d| u64::try_from(d.whole_seconds()).unwrap_or(60));
                Some(Refusal::TooMany(seconds.max(1)))
            }
            OtpError::UnknownBrand(_) | OtpError::Store(_) => None,
        }
    }

    /// The HTTP status it is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Refusal::Malformed | Refusal::Wrong => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Locked => StatusCode::LOCKED,
            Refusal::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn refusals_keep_their_meaning_and_never_tell_the_tries_left() {
        let wrong = |n| Refusal::of(&OtpError::WrongCode { attempts_left: n });
        // The tries left are not shown: 4 and 1 read the same.
        assert_eq!(wrong(4), wrong(1));
        assert_eq!(Refusal::of(&OtpError::Locked), Some(Refusal::Locked));
        let many = OtpError::TooManyCodes {
            retry_after: Duration::seconds(42),
        };
        assert_eq!(Refusal::of(&many), Some(Refusal::TooMany(42)));
        assert_eq!(Refusal::TooMany(1).status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(Refusal::Locked.status(), StatusCode::LOCKED);
    }
}
