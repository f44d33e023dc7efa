//! Staff photos: an uploaded PNG, JPEG, WebP or GIF becomes a small square PNG (the centre of
//! the picture, scaled), which is all the widget and the console ever show. Decoding is bounded
//! (dimensions and memory), so a crafted file cannot make the server allocate without limit.

use image::{imageops::FilterType, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// The side of the stored square, in pixels (shown at up to 64 CSS px on 2x screens).
pub const SIDE: u32 = 128;
/// Larger pictures are refused before they are decoded.
const MAX_SIDE: u32 = 8000;
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;

/// The stored PNG made from an upload, or why not (one sentence for the uploader).
pub fn make(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    const NOT_AN_IMAGE: &str = "The photo must be a PNG, JPEG, WebP or GIF image.";
    let format = image::guess_format(bytes).map_err(|_| NOT_AN_IMAGE)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif
    ) {
        return Err(NOT_AN_IMAGE);
    }
    let picture = decode(bytes, format).map_err(|_| {
        "The photo could not be read: it is damaged, or larger than 8000 × 8000 pixels."
    })?;
    let (w, h) = (picture.width(), picture.height());
    if w < 16 || h < 16 {
        return Err("The photo is too small: at least 16 × 16 pixels.");
    }
    // The largest centred square, scaled to SIDE.
    let side = w.min(h);
    let square = picture.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let small = square
        .resize_exact(SIDE, SIDE, FilterType::CatmullRom)
        .to_rgba8();
    let mut out = Vec::new();
    small
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|_| "The photo could not be converted.")?;
    Ok(out)
}

/// Decodes within `MAX_SIDE` and `MAX_DECODE_BYTES`: a header claiming more is refused
/// (`ImageError::Limits`) before anything is allocated for its pixels.
fn decode(bytes: &[u8], format: ImageFormat) -> image::ImageResult<image::DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    fn encoded(img: &RgbaImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img.clone())
            .to_rgb8()
            .write_to(&mut Cursor::new(&mut out), format)
            .unwrap();
        out
    }

    #[test]
    fn a_wide_photo_becomes_its_centred_square() {
        // 300 × 100: red left third, green middle, blue right third.
        let img = RgbaImage::from_fn(300, 100, |x, _| match x / 100 {
            0 => Rgba([255, 0, 0, 255]),
            1 => Rgba([0, 255, 0, 255]),
            _ => Rgba([0, 0, 255, 255]),
        });
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let png = make(&encoded(&img, format)).unwrap();
            let out = image::load_from_memory_with_format(&png, ImageFormat::Png)
                .unwrap()
                .to_rgba8();
            assert_eq!(out.dimensions(), (SIDE, SIDE));
            let centre = out.get_pixel(SIDE / 2, SIDE / 2);
            assert!(
                centre[1] > 200 && centre[0] < 60 && centre[2] < 60,
                "{format:?}: {centre:?}"
            );
        }
    }

    #[test]
    fn what_is_not_a_small_sane_picture_is_refused() {
        assert!(make(b"GIF89a but not really").is_err());
        assert!(make(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(make(&[]).is_err());
        let tiny = RgbaImage::from_pixel(8, 8, Rgba([1, 2, 3, 255]));
        assert_eq!(
            make(&encoded(&tiny, ImageFormat::Png)),
            Err("The photo is too small: at least 16 × 16 pixels.")
        );
        // A well-formed PNG header claiming 8100 × 100 pixels (small enough for the decoder's
        // own limits, wider than ours): its checksum fixed, so only `MAX_SIDE` can refuse it
        // as a limit (without it, the decoder reads on and finds the data damaged).
        let mut huge = encoded(
            &RgbaImage::from_pixel(16, 16, Rgba([0; 4])),
            ImageFormat::Png,
        );
        huge[16..20].copy_from_slice(&8_100u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100u32.to_be_bytes());
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        let refused = decode(&huge, ImageFormat::Png);
        assert!(
            matches!(refused, Err(image::ImageError::Limits(_))),
            "{:?}",
            refused.err()
        );
        assert!(make(&huge).is_err());
    }

    /// CRC-32 as PNG chunks use it (ISO 3309), bit by bit: enough for one header.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
}
