//! The words of the card's data pages, in Vietnamese and English.

use crate::i18n::Lang;
use regulars_domain::{Channel, ConsentState, Purpose};

/// The pages' words.
pub(crate) struct Words {
    pub title: &'static str,
    pub link_gone: &'static str,
    pub bad_form: &'static str,
    pub sign_in_intro: &'static str,
    pub send_code: &'static str,
    pub back_to_card: &'static str,
    pub code_sent: &'static str,
    pub code: &'static str,
    pub verify: &'static str,
    pub resend: &'static str,
    pub code_malformed: &'static str,
    pub code_wrong: &'static str,
    pub code_locked: &'static str,
    pub download: &'static str,
    pub download_intro: &'static str,
    pub download_json: &'static str,
    pub download_csv: &'static str,
    pub no_download: &'static str,
    pub profile: &'static str,
    pub phone: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub birthday: &'static str,
    pub birthday_hint: &'static str,
    pub correct: &'static str,
    pub corrected: &'static str,
    pub nothing_changed: &'static str,
    pub bad_birthday: &'static str,
    pub consents: &'static str,
    pub withdraw_intro: &'static str,
    pub withdraw: &'static str,
    pub withdrawn_done: &'static str,
    pub nothing_withdrawn: &'static str,
    pub erase: &'static str,
    pub erase_intro: &'static str,
    pub erase_confirm_title: &'static str,
    pub erase_confirm: &'static str,
    pub erase_yes: &'static str,
    pub erase_cancel: &'static str,
    pub erased_title: &'static str,
    pub erased: &'static str,
    pub sign_out: &'static str,
    pub granted: &'static str,
    pub withdrawn: &'static str,
    pub never_asked: &'static str,
    pub change_phone: &'static str,
    pub change_phone_intro: &'static str,
    pub new_phone: &'static str,
    pub send_phone_code: &'static str,
    pub phone_code_sent: &'static str,
    pub phone_verify: &'static str,
    pub phone_cancel: &'static str,
    pub phone_changed: &'static str,
    pub phone_taken: &'static str,
    pub phone_invalid: &'static str,
    pub phone_same: &'static str,
}

const VI: Words = Words {
    title: "Dữ liệu của tôi",
    link_gone: "Liên kết đã hết hạn hoặc không hợp lệ.",
    bad_form: "Biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.",
    sign_in_intro: "Để xem và quản lý dữ liệu của bạn, chúng tôi sẽ gửi một mã gồm 6 chữ số tới số điện thoại đã đăng ký.",
    send_code: "Gửi mã",
    back_to_card: "Quay lại thẻ thành viên",
    code_sent: "Nếu số điện thoại đã đăng ký nhận được tin nhắn, mã sẽ tới trong giây lát. Mã có hiệu lực 5 phút.",
    code: "Mã xác nhận",
    verify: "Xác nhận",
    resend: "Gửi lại mã",
    code_malformed: "Mã gồm 6 chữ số.",
    code_wrong: "Mã không đúng hoặc đã hết hạn.",
    code_locked: "Đã nhập sai quá nhiều lần. Vui lòng yêu cầu mã mới.",
    download: "Tải dữ liệu",
    download_intro: "Mọi dữ liệu chúng tôi lưu về bạn: hồ sơ, lịch sử đồng ý, đơn hàng, điểm, voucher, phân nhóm và tin nhắn đã gửi.",
    download_json: "Tải về (JSON)",
    download_csv: "Tải về (CSV)",
    no_download: "Chưa thể tải dữ liệu lúc này.",
    profile: "Thông tin của bạn",
    phone: "Số điện thoại",
    name: "Họ tên",
    email: "Email",
    birthday: "Ngày sinh",
    birthday_hint: "NNNN-TT-NN, để trống để xoá",
    correct: "Lưu thay đổi",
    corrected: "Đã cập nhật thông tin của bạn.",
    nothing_changed: "Không có gì thay đổi.",
    bad_birthday: "Ngày sinh phải có dạng NNNN-TT-NN (ví dụ 1990-05-31).",
    consents: "Sự đồng ý của bạn",
    withdraw_intro: "Chọn những mục bạn muốn rút lại sự đồng ý.",
    withdraw: "Rút lại đồng ý",
    withdrawn_done: "Đã ghi nhận việc rút lại sự đồng ý.",
    nothing_withdrawn: "Hãy chọn ít nhất một mục đang được đồng ý.",
    erase: "Xoá dữ liệu của tôi",
    erase_intro: "Xoá vĩnh viễn họ tên, số điện thoại, email, ngày sinh và nội dung tin nhắn. Điểm và voucher sẽ mất.",
    erase_confirm_title: "Xác nhận xoá dữ liệu",
    erase_confirm: "Bạn có chắc chắn? Việc này không thể hoàn tác: điểm, hạng và voucher của bạn sẽ mất, liên kết thẻ này sẽ ngừng hoạt động.",
    erase_yes: "Có, xoá dữ liệu của tôi",
    erase_cancel: "Không, quay lại",
    erased_title: "Đã xoá dữ liệu",
    erased: "Dữ liệu của bạn đã được xoá. Bạn có thể đăng ký lại bất cứ lúc nào.",
    sign_out: "Đăng xuất",
    granted: "đã đồng ý",
    withdrawn: "đã rút lại",
    never_asked: "chưa được hỏi",
    change_phone: "Đổi số điện thoại",
    change_phone_intro: "Nhập số mới của bạn: chúng tôi gửi một mã gồm 6 chữ số tới số mới để xác nhận bạn đang dùng số đó.",
    new_phone: "Số điện thoại mới",
    send_phone_code: "Gửi mã tới số mới",
    phone_code_sent: "Nếu số mới nhận được tin nhắn, mã sẽ đến trong giây lát. Mã có hiệu lực 5 phút.",
    phone_verify: "Xác nhận và đổi số",
    phone_cancel: "Giữ số cũ",
    phone_changed: "Đã đổi số điện thoại của bạn. Từ nay chúng tôi gửi tin nhắn tới số mới.",
    phone_taken: "Số này đã là số của một thành viên khác, nên không thể đổi sang số này. Số của bạn giữ nguyên.",
    phone_invalid: "Số điện thoại mới không hợp lệ.",
    phone_same: "Đây đã là số điện thoại của bạn.",
};

const EN: Words = Words {
    title: "My data",
    link_gone: "This link has expired or is not valid.",
    bad_form: "This form has expired. Reload the page and try again.",
    sign_in_intro: "To see and manage your data, we send a 6-digit code to the phone number on file.",
    send_code: "Send me a code",
    back_to_card: "Back to my card",
    code_sent: "If the phone on file takes messages, the code arrives in a moment. It is good for 5 minutes.",
    code: "Code",
    verify: "Confirm",
    resend: "Send a new code",
    code_malformed: "The code is 6 digits.",
    code_wrong: "The code is wrong or has expired.",
    code_locked: "Too many wrong tries. Ask for a new code.",
    download: "Download my data",
    download_intro: "Everything we hold about you: profile, consent history, orders, points, vouchers, segments and messages sent.",
    download_json: "Download (JSON)",
    download_csv: "Download (CSV)",
    no_download: "Downloads are not available right now.",
    profile: "Your details",
    phone: "Phone",
    name: "Name",
    email: "Email",
    birthday: "Birthday",
    birthday_hint: "YYYY-MM-DD, empty to remove",
    correct: "Save changes",
    corrected: "Your details were updated.",
    nothing_changed: "Nothing changed.",
    bad_birthday: "The birthday must read YYYY-MM-DD (1990-05-31, say).",
    consents: "Your consent",
    withdraw_intro: "Tick what you no longer agree to.",
    withdraw: "Withdraw consent",
    withdrawn_done: "Your consent was withdrawn.",
    nothing_withdrawn: "Tick at least one purpose you agreed to.",
    erase: "Erase my data",
    erase_intro: "Destroys your name, phone, email, birthday and message texts for good. Points and vouchers are lost.",
    erase_confirm_title: "Confirm erasure",
    erase_confirm: "Are you sure? This cannot be undone: your points, tier and vouchers are lost and this card link stops working.",
    erase_yes: "Yes, erase my data",
    erase_cancel: "No, go back",
    erased_title: "Data erased",
    erased: "Your data was erased. You may join again at any time.",
    sign_out: "Sign out",
    granted: "granted",
    withdrawn: "withdrawn",
    never_asked: "never asked",
    change_phone: "Change phone number",
    change_phone_intro: "Enter your new number: we send a 6-digit code to the new number to confirm that it is yours.",
    new_phone: "New phone number",
    send_phone_code: "Send a code to the new number",
    phone_code_sent: "If the new number takes messages, the code arrives in a moment. It is good for 5 minutes.",
    phone_verify: "Confirm and change",
    phone_cancel: "Keep my number",
    phone_changed: "Your phone number was changed. Messages now go to the new number.",
    phone_taken: "This number already belongs to another member, so yours cannot change to it. Your number stays as it was.",
    phone_invalid: "The new phone number is not valid.",
    phone_same: "This is your phone number already.",
};

/// The words of `lang`.
pub(crate) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// A purpose's form field and its name in `lang`.
pub(crate) fn purpose(lang: Lang, purpose: Purpose) -> (&'static str, &'static str) {
    let vi = lang == Lang::Vi;
    match purpose {
        Purpose::Programme => (
            "programme",
            if vi {
                "Chương trình thành viên (tích điểm, voucher)"
            } else {
                "The loyalty programme (points, vouchers)"
            },
        ),
        Purpose::Marketing(Channel::Zalo) => (
            "zalo",
            if vi {
                "Quảng cáo qua Zalo"
            } else {
                "Promotions by Zalo"
            },
        ),
        Purpose::Marketing(Channel::Sms) => (
            "sms",
            if vi {
                "Quảng cáo qua SMS"
            } else {
                "Promotions by SMS"
            },
        ),
        Purpose::Marketing(Channel::Email) => (
            "email",
            if vi {
                "Quảng cáo qua email"
            } else {
                "Promotions by email"
            },
        ),
        Purpose::Profiling => (
            "profiling",
            if vi {
                "Ưu đãi cá nhân hoá (phân tích thói quen mua)"
            } else {
                "Personalised offers (analysis of your visits)"
            },
        ),
    }
}

/// A consent state in `lang`.
pub(crate) fn state(w: &Words, state: ConsentState) -> &'static str {
    match state {
        ConsentState::Granted => w.granted,
        ConsentState::Withdrawn => w.withdrawn,
        ConsentState::NeverAsked => w.never_asked,
    }
}
