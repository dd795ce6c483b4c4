//! QR codes as inline SVG.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG QR code of `data` (medium error correction), or `None` when the data is
/// too long for a QR code.
pub(crate) fn svg(data: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_an_svg_document() {
        let svg = svg("https://example.com/c/abc").unwrap_or_default();
        assert!(svg.contains("<svg"));
        assert!(svg.contains("</svg>"));
        assert!(super::svg(&"x".repeat(10_000)).is_none());
    }
}
