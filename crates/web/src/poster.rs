//! A location's printable sign-up poster: the QR code of its `/j/{token}` link, the
//! brand's name and a short call to scan, as SVG, PNG and PDF.
//!
//! Everything is drawn here from the QR code's module matrix, with no font or image
//! library: the SVG and the PDF draw each dark module as a rectangle (vector, sharp at
//! any print size); the PNG is the QR code alone (no text: that would need a font
//! rasteriser), for shops that lay out their own poster. The PDF writes its text with
//! the standard Helvetica font, which has no Vietnamese letters: its text is folded to
//! unaccented letters, as brandname SMS are.

use flate2::Compression;
use flate2::write::ZlibEncoder;
use qrcode::{Color, EcLevel, QrCode};
use regulars_domain::sms::fold_vietnamese;
use std::fmt::Write as _;
use std::io::Write as _;

/// Modules of white around the code (the QR standard asks for four).
const QUIET: usize = 4;
/// The poster's page: A5 portrait in PostScript points.
const PAGE_W: f64 = 420.0;
const PAGE_H: f64 = 595.0;
/// The QR code's side on the page, in points (about 10 cm).
const QR_SIDE: f64 = 290.0;

/// What a poster says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poster<'a> {
    /// The sign-up link the QR code holds.
    pub url: &'a str,
    /// The brand's name, the title.
    pub brand: &'a str,
    /// The call to scan ("Quét để tích điểm").
    pub line: &'a str,
    /// The location's name, small under the code.
    pub location: &'a str,
}

/// The QR code's side in modules and its dark modules, row by row.
fn matrix(url: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Some((code.width(), dark))
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The poster as an SVG document (A5 proportions, units of points).
pub(crate) fn svg(poster: &Poster<'_>) -> Option<String> {
    let (width, dark) = matrix(poster.url)?;
    let module = QR_SIDE / (width + 2 * QUIET) as f64;
    let left = (PAGE_W - QR_SIDE) / 2.0;
    let top = 130.0;
    let mut path = String::new();
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (x, y) = (i % width + QUIET, i / width + QUIET);
        let _ = write!(
            path,
            "M{:.2} {:.2}h{m:.2}v{m:.2}h-{m:.2}z",
            left + x as f64 * module,
            top + y as f64 * module,
            m = module
        );
    }
    let mut out = String::new();
    let _ = write!(
        out,
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="148mm" height="210mm" viewBox="0 0 {w} {h}">"##,
            r##"<rect width="{w}" height="{h}" fill="#fff"/>"##,
            r##"<text x="{cx}" y="80" text-anchor="middle" font-family="sans-serif" font-size="30" font-weight="bold" fill="#111">{brand}</text>"##,
            r##"<path d="{path}" fill="#000"/>"##,
            r##"<text x="{cx}" y="470" text-anchor="middle" font-family="sans-serif" font-size="26" font-weight="bold" fill="#111">{line}</text>"##,
            r##"<text x="{cx}" y="505" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#555">{location}</text>"##,
            r##"<text x="{cx}" y="560" text-anchor="middle" font-family="monospace" font-size="7" fill="#777">{url}</text>"##,
            "</svg>"
        ),
        w = PAGE_W,
        h = PAGE_H,
        cx = PAGE_W / 2.0,
        brand = xml_escape(poster.brand),
        path = path,
        line = xml_escape(poster.line),
        location = xml_escape(poster.location),
        url = xml_escape(poster.url),
    );
    Some(out)
}

/// The QR code alone as a PNG: 8-bit greyscale, `scale` pixels a module, with its quiet
/// zone.
pub(crate) fn png(url: &str, scale: usize) -> Option<Vec<u8>> {
    let (width, dark) = matrix(url)?;
    let scale = scale.clamp(1, 32);
    let side = (width + 2 * QUIET) * scale;
    let side32 = u32::try_from(side).ok()?;
    let mut raw = Vec::with_capacity((side + 1) * side);
    for py in 0..side {
        raw.push(0); // no filter
        let y = py / scale;
        for px in 0..side {
            let x = px / scale;
            let inside = (QUIET..QUIET + width).contains(&x) && (QUIET..QUIET + width).contains(&y);
            let black = inside && dark[(y - QUIET) * width + (x - QUIET)];
            raw.push(if black { 0 } else { 255 });
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&raw).ok()?;
    let data = z.finish().ok()?;
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side32.to_be_bytes());
    header.extend_from_slice(&side32.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // 8 bits, greyscale, deflate, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &data);
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// Text for a PDF string in Helvetica: folded to ASCII, PDF's specials escaped.
fn pdf_text(text: &str) -> String {
    let mut out = String::new();
    for c in fold_vietnamese(text).chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A line of text centred on the page (the width is estimated: Helvetica averages about
/// half an em a character).
fn centred(ops: &mut String, font: &str, size: f64, y: f64, text: &str) {
    let text = pdf_text(text);
    let estimate = text.chars().count() as f64 * size * 0.52;
    let x = ((PAGE_W - estimate) / 2.0).max(20.0);
    let _ = writeln!(
        ops,
        "BT /{font} {size:.1} Tf {x:.2} {y:.2} Td ({text}) Tj ET"
    );
}

/// The poster as a one-page PDF (A5), the QR code drawn as vector rectangles.
pub(crate) fn pdf(poster: &Poster<'_>) -> Option<Vec<u8>> {
    let (width, dark) = matrix(poster.url)?;
    let module = QR_SIDE / (width + 2 * QUIET) as f64;
    let left = (PAGE_W - QR_SIDE) / 2.0;
    let bottom = 150.0;
    let mut ops = String::from("0 g\n");
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (x, y) = (i % width + QUIET, i / width + QUIET);
        // PDF's y axis points up: row 0 is at the top of the code.
        let _ = writeln!(
            ops,
            "{:.2} {:.2} {m:.2} {m:.2} re",
            left + x as f64 * module,
            bottom + QR_SIDE - (y + 1) as f64 * module,
            m = module
        );
    }
    ops.push_str("f\n");
    centred(&mut ops, "F2", 30.0, PAGE_H - 80.0, poster.brand);
    centred(&mut ops, "F2", 26.0, 120.0, poster.line);
    centred(&mut ops, "F1", 14.0, 90.0, poster.location);
    centred(&mut ops, "F1", 7.0, 35.0, poster.url);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
             /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>"
        ),
        format!("<< /Length {} >>\nstream\n{ops}endstream", ops.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{object}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(out, "{offset:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use flate2::read::ZlibDecoder;
    use std::io::Read as _;

    const URL: &str = "https://loyalty.example.com/j/0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef";

    fn poster() -> Poster<'static> {
        Poster {
            url: URL,
            brand: "Trà Sữa <Mây> & Co",
            line: "Quét để tích điểm",
            location: "Quận 1 (Lê Lợi)",
        }
    }

    #[test]
    fn the_svg_holds_the_code_and_the_escaped_text() {
        let svg = svg(&poster()).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("Trà Sữa &lt;Mây&gt; &amp; Co"));
        assert!(svg.contains("Quét để tích điểm"));
        assert!(svg.contains(URL));
        let (_, dark) = matrix(URL).unwrap();
        let path = svg
            .split("<path d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(
            path.matches('z').count(),
            dark.iter().filter(|d| **d).count()
        );
        assert!(
            super::svg(&Poster {
                url: &"x".repeat(10_000),
                ..poster()
            })
            .is_none()
        );
    }

    /// Decodes the PNG: signature, chunk checksums, header, and every pixel against the
    /// QR code's modules.
    #[test]
    fn the_png_decodes_to_the_code_module_for_module() {
        let scale = 3;
        let png = png(URL, scale).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut at = 8;
        let mut chunks = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc32fast::hash(&png[at + 4..at + 8 + len]), crc);
            chunks.push((kind.to_vec(), data.to_vec()));
            at += 12 + len;
        }
        let kinds: Vec<&[u8]> = chunks.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(kinds, [&b"IHDR"[..], b"IDAT", b"IEND"]);
        let header = &chunks[0].1;
        let side = u32::from_be_bytes(header[0..4].try_into().unwrap()) as usize;
        assert_eq!(&header[8..], &[8, 0, 0, 0, 0]);
        let (width, dark) = matrix(URL).unwrap();
        assert_eq!(side, (width + 2 * QUIET) * scale);
        let mut raw = Vec::new();
        ZlibDecoder::new(chunks[1].1.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), side * (side + 1));
        for py in 0..side {
            let row = &raw[py * (side + 1)..(py + 1) * (side + 1)];
            assert_eq!(row[0], 0, "filter byte");
            for px in 0..side {
                let (x, y) = (px / scale, py / scale);
                let module = (x >= QUIET && y >= QUIET && x < QUIET + width && y < QUIET + width)
                    && dark[(y - QUIET) * width + (x - QUIET)];
                assert_eq!(row[px + 1], if module { 0 } else { 255 }, "({px},{py})");
            }
        }
    }

    /// Reads the PDF the way a viewer finds its objects: `startxref` to the table, each
    /// entry's offset to its `n 0 obj`, the trailer's size to the count.
    #[test]
    fn the_pdf_has_a_true_cross_reference_table() {
        let pdf = pdf(&poster()).unwrap();
        let text = String::from_utf8(pdf).unwrap();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref\n0 7\n"));
        let entries: Vec<&str> = text[start..].lines().skip(3).take(6).collect();
        for (i, entry) in entries.iter().enumerate() {
            // Each entry is 20 bytes with its end of line.
            assert_eq!(entry.len(), 19, "{entry}");
            assert!(entry.ends_with(" 00000 n "), "{entry}");
            let offset: usize = entry[..10].parse().unwrap();
            assert!(
                text[offset..].starts_with(&format!("{} 0 obj\n", i + 1)),
                "object {}",
                i + 1
            );
        }
        assert!(text.contains("/Size 7 /Root 1 0 R"));
        // The stream's declared length is its true length.
        let (_, stream) = text.split_once(">>\nstream\n").unwrap();
        let (body, _) = stream.split_once("endstream").unwrap();
        assert!(text.contains(&format!("/Length {} >>", body.len())));
        // Text is folded and escaped for Helvetica.
        assert!(body.contains("(Quet de tich diem) Tj"));
        assert!(body.contains("(Quan 1 \\(Le Loi\\)) Tj"));
        assert!(body.is_ascii());
        let (_, dark) = matrix(URL).unwrap();
        assert_eq!(
            body.matches(" re\n").count(),
            dark.iter().filter(|d| **d).count()
        );
    }
}
