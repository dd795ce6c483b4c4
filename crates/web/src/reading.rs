//! What the dashboard says to make its figures readable: the words around a campaign's
//! uncertainty and the customers it names, in both languages.

use crate::i18n::Lang;

/// The words of one language.
#[derive(Debug)]
pub(crate) struct Reading {
    /// Shown instead of a result whose 95 % interval includes zero.
    pub not_significant: &'static str,
    /// Before a 95 % interval: `95 %: a – b`.
    pub interval: &'static str,
    /// One line on what ROI means.
    pub roi_explained: &'static str,
    /// A customer who has neither name nor a phone the session may see.
    pub unnamed: &'static str,
}

const EN: Reading = Reading {
    not_significant: "Not yet significant",
    interval: "95 %",
    roi_explained: "ROI = (extra gross margin compared with the hold-out group − cost of the offers) ÷ cost of the offers. \
                    A result is significant when its 95 % interval does not include zero.",
    unnamed: "Customer",
};

const VI: Reading = Reading {
    not_significant: "Chưa đủ chắc chắn",
    interval: "95 %",
    roi_explained: "ROI = (lợi nhuận gộp tăng thêm so với nhóm đối chứng − chi phí ưu đãi) ÷ chi phí ưu đãi. \
                    Kết quả chỉ chắc chắn khi khoảng tin cậy 95 % không chứa số 0.",
    unnamed: "Khách hàng",
};

/// The words of `lang`.
pub(crate) fn reading(lang: Lang) -> &'static Reading {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}
