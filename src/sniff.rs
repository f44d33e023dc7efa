//! What an uploaded file is, from its bytes (never from its name or the type the client
//! declared), and the allow-list of what may be sent in a chat (issue 14, "Attachments").
//!
//! - `kind` names the type from the first bytes (`HEAD_BYTES`) and whether the whole file was
//!   text; legacy Office files (OLE) are told apart by their root entry, so for them the
//!   caller hands the whole file (`is_ole`).
//! - `Text` checks UTF-8 without NUL as the bytes stream by, with no copy.
//! - `name_matches` refuses a name whose extension says another type than the bytes (a `.png`
//!   that is HTML) or an active type (`.html`, `.svg`, `.exe`): a downloaded file is opened by
//!   its extension, whatever we served it as.
//! - `display_name` is the client's file name made safe to show; it is never used on disk.

/// How many leading bytes `kind` needs: the OOXML check reads the zip's first few entries.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The longest file name shown, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The types a chat accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Text,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Doc,
    Xls,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Png,
        Kind::Jpeg,
        Kind::Gif,
        Kind::Webp,
        Kind::Pdf,
        Kind::Text,
        Kind::Docx,
        Kind::Xlsx,
        Kind::Pptx,
        Kind::Odt,
        Kind::Ods,
        Kind::Doc,
        Kind::Xls,
    ];

    /// The type the file is served as.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Pdf => "application/pdf",
            Kind::Text => "text/plain",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Kind::Odt => "application/vnd.oasis.opendocument.text",
            Kind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Kind::Doc => "application/msword",
            Kind::Xls => "application/vnd.ms-excel",
        }
    }

    /// Shown inline (thumbnails) rather than downloaded.
    pub fn is_image(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp)
    }

    /// The extensions a file of this kind may carry (lower case). The first is the usual one.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Kind::Gif => &["gif"],
            Kind::Webp => &["webp"],
            Kind::Pdf => &["pdf"],
            Kind::Text => &["txt", "text", "log", "csv", "tsv", "md", "markdown", "json"],
            Kind::Docx => &["docx"],
            Kind::Xlsx => &["xlsx"],
            Kind::Pptx => &["pptx"],
            Kind::Odt => &["odt"],
            Kind::Ods => &["ods"],
            Kind::Doc => &["doc"],
            Kind::Xls => &["xls"],
        }
    }
}

/// Extensions a browser or a desktop would run or render as active content: never accepted,
/// whatever the bytes are (a PNG can carry HTML in a chunk and still be a PNG).
const ACTIVE: &[&str] = &[
    "htm", "html", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt", "js",
    "mjs", "jse", "vbs", "vbe", "wsf", "wsh", "hta", "swf", "exe", "com", "scr", "bat", "cmd",
    "msi", "msix", "dll", "cpl", "ps1", "psm1", "sh", "jar", "lnk", "url", "php", "asp", "aspx",
    "jsp", "docm", "xlsm", "pptm", "app", "apk", "deb", "rpm", "dmg", "pkg", "iso",
];

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Whether the file is an OLE compound file: `kind` needs all of it to tell doc from xls.
pub fn is_ole(head: &[u8]) -> bool {
    head.starts_with(&OLE_MAGIC)
}

/// The type of a file from its first bytes (`head`, the whole file for OLE) and whether all
/// of it was text (`Text::is_text`). `None`: not allowed.
pub fn kind(head: &[u8], all_text: bool) -> Option<Kind> {
    use infer::{archive, doc, image, odf};
    // Zip-based: OpenDocument first (its `mimetype` entry), then Office Open XML.
    let binary = [
        (image::is_png as fn(&[u8]) -> bool, Kind::Png),
        (image::is_jpeg, Kind::Jpeg),
        (image::is_gif, Kind::Gif),
        (image::is_webp, Kind::Webp),
        (archive::is_pdf, Kind::Pdf),
        (odf::is_odt, Kind::Odt),
        (odf::is_ods, Kind::Ods),
    ];
    if let Some((_, k)) = binary.iter().find(|(is, _)| is(head)) {
        return Some(*k);
    }
    if archive::is_zip(head) {
        return ooxml(head);
    }
    if is_ole(head) {
        // The root entry's class id (infer reads the compound file's directory).
        if doc::is_doc(head) {
            return Some(Kind::Doc);
        }
        if doc::is_xls(head) {
            return Some(Kind::Xls);
        }
        return None;
    }
    (all_text && !head.is_empty()).then_some(Kind::Text)
}

/// The names of the zip entries whose local headers lie in `head`. Found by their signature
/// rather than by walking sizes: an entry written with a data descriptor has no size up front.
fn zip_names(head: &[u8]) -> Vec<&[u8]> {
    const LOCAL: &[u8] = b"PK\x03\x04";
    let mut names = vec![];
    let mut at = 0;
    while let Some(i) = head
        .get(at..)
        .and_then(|h| h.windows(4).position(|w| w == LOCAL))
    {
        let start = at + i;
        let len = head
            .get(start + 26..start + 28)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
        if let Some(name) = len.and_then(|n| head.get(start + 30..start + 30 + n)) {
            names.push(name);
        }
        at = start + 4;
    }
    names
}

/// An Office Open XML document: a zip with `[Content_Types].xml` and the part folder of its
/// kind. One that carries macros (`vbaProject.bin`) is not accepted.
fn ooxml(head: &[u8]) -> Option<Kind> {
    let names = zip_names(head);
    let has = |pred: &dyn Fn(&[u8]) -> bool| names.iter().any(|n| pred(n));
    if !has(&|n| n == b"[Content_Types].xml") || has(&|n| n.ends_with(b"vbaProject.bin")) {
        return None;
    }
    [
        (&b"word/"[..], Kind::Docx),
        (b"xl/", Kind::Xlsx),
        (b"ppt/", Kind::Pptx),
    ]
    .into_iter()
    .find(|(dir, _)| has(&|n| n.starts_with(dir)))
    .map(|(_, k)| k)
}

/// Why a name was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum NameRefusal {
    /// The extension says another type than the bytes.
    Mismatch,
    /// An extension that runs or renders (`.html`, `.exe`).
    Active,
}

/// Whether the name's extension fits the bytes: none, the kind's own, or an extension that
/// names no type we know (`report.v2`). Case-insensitive.
pub fn name_matches(kind: Kind, name: &str) -> Result<(), NameRefusal> {
    let Some(ext) = extension(name) else {
        return Ok(());
    };
    if ACTIVE.contains(&ext.as_str()) {
        return Err(NameRefusal::Active);
    }
    if kind.extensions().contains(&ext.as_str()) {
        return Ok(());
    }
    if Kind::ALL
        .iter()
        .any(|k| k.extensions().contains(&ext.as_str()))
    {
        return Err(NameRefusal::Mismatch);
    }
    // Extensions of common types we do not accept: a zip, an image or an archive by name.
    const OTHER_KNOWN: &[&str] = &[
        "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "bmp", "tif", "tiff", "ico", "heic",
        "avif", "mp3", "mp4", "mov", "avi", "wav", "ogg", "webm", "ppt", "odp", "rtf", "css",
    ];
    if OTHER_KNOWN.contains(&ext.as_str()) {
        return Err(NameRefusal::Mismatch);
    }
    Ok(())
}

/// The lower-cased text after the last dot, if the name has one (not a leading dot alone).
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.trim().is_empty() && !name.starts_with('.') {
        return None;
    }
    let ext = ext.trim().to_lowercase();
    (!ext.is_empty()).then_some(ext)
}

/// Bidirectional controls reorder what is shown (U+202E in "invoice<U+202E>fdp.exe" shows it as "invoiceexe.pdf"):
/// dropped like control characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The client's file name made safe to show: no directories (either slash), no control or
/// bidi characters, trimmed, at most `MAX_NAME_CHARS` characters (cut in the middle so the
/// extension stays). Empty after that: "file" with the kind's usual extension.
pub fn display_name(raw: &str, kind: Kind) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    if clean.is_empty() {
        return format!("file.{}", kind.extensions()[0]);
    }
    let n = clean.chars().count();
    if n <= MAX_NAME_CHARS {
        return clean.to_string();
    }
    let ext: String = match clean.rsplit_once('.') {
        Some((_, e)) if e.chars().count() <= 10 => format!(".{e}"),
        _ => String::new(),
    };
    let keep = MAX_NAME_CHARS - 1 - ext.chars().count();
    let stem: String = clean.chars().take(keep).collect();
    format!("{}…{ext}", stem.trim_end())
}

/// Checks, chunk by chunk, that a stream is UTF-8 text without NUL. A character cut between
/// two chunks is carried over (at most 3 bytes).
#[derive(Debug, Default)]
pub struct Text {
    carry: Vec<u8>,
    bad: bool,
}

impl Text {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.bad {
            return;
        }
        if chunk.contains(&0) {
            self.bad = true;
            return;
        }
        let mut rest = chunk;
        // First complete the character carried over, a byte at a time (at most 3).
        while !self.carry.is_empty() {
            let Some((&b, tail)) = rest.split_first() else {
                return;
            };
            self.carry.push(b);
            rest = tail;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_none() => {}
                Err(_) => {
                    self.bad = true;
                    return;
                }
            }
        }
        match std::str::from_utf8(rest) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => self.carry = rest[e.valid_up_to()..].to_vec(),
            Err(_) => self.bad = true,
        }
    }

    /// Whether everything fed was text (a character cut off at the end is not).
    pub fn is_text(&self) -> bool {
        !self.bad && self.carry.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const PNG_1X1: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082";

    /// A zip of stored (uncompressed) entries, with its central directory.
    pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = vec![];
        let mut central = vec![];
        for (name, data) in entries {
            let offset = out.len() as u32;
            let mut head = vec![];
            head.extend_from_slice(&[0x50, 0x4B, 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            head.extend_from_slice(&0u32.to_le_bytes()); // crc (unchecked here)
            head.extend_from_slice(&(data.len() as u32).to_le_bytes());
            head.extend_from_slice(&(data.len() as u32).to_le_bytes());
            head.extend_from_slice(&(name.len() as u16).to_le_bytes());
            head.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&head);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(&[0x50, 0x4B, 1, 2, 20, 0]);
            central.extend_from_slice(&head[4..30]);
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let at = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&[0x50, 0x4B, 5, 6, 0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    pub fn docx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
        ])
    }

    /// A compound file whose root entry has `clsid` (what Word and Excel write).
    fn ole(clsid: &str) -> Vec<u8> {
        let mut comp = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        comp.set_storage_clsid("/", uuid::Uuid::parse_str(clsid).unwrap())
            .unwrap();
        comp.create_stream("/WordDocument").unwrap();
        comp.flush().unwrap();
        comp.into_inner().into_inner()
    }

    fn text_of(chunks: &[&[u8]]) -> bool {
        let mut t = Text::default();
        for c in chunks {
            t.feed(c);
        }
        t.is_text()
    }

    #[test]
    fn each_allowed_type_is_recognised_from_its_bytes() {
        let png = hex::decode(PNG_1X1).unwrap();
        assert_eq!(kind(&png, false), Some(Kind::Png));
        assert_eq!(
            kind(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", false),
            Some(Kind::Jpeg)
        );
        assert_eq!(kind(b"GIF89a\x01\x00\x01\x00", false), Some(Kind::Gif));
        assert_eq!(
            kind(b"RIFF\x24\x00\x00\x00WEBPVP8 ", false),
            Some(Kind::Webp)
        );
        assert_eq!(
            kind(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", false),
            Some(Kind::Pdf)
        );
        assert_eq!(kind(&docx(), false), Some(Kind::Docx));
        let xlsx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        assert_eq!(kind(&xlsx, false), Some(Kind::Xlsx));
        let pptx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("ppt/presentation.xml", b"<p/>"),
        ]);
        assert_eq!(kind(&pptx, false), Some(Kind::Pptx));
        let odt = zip(&[("mimetype", b"application/vnd.oasis.opendocument.text")]);
        assert_eq!(kind(&odt, false), Some(Kind::Odt));
        let ods = zip(&[(
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        )]);
        assert_eq!(kind(&ods, false), Some(Kind::Ods));
        let doc = ole("00020906-0000-0000-c000-000000000046");
        assert!(is_ole(&doc));
        assert_eq!(kind(&doc, false), Some(Kind::Doc));
        assert_eq!(
            kind(&ole("00020820-0000-0000-c000-000000000046"), false),
            Some(Kind::Xls)
        );
        assert_eq!(kind(b"hello\n", true), Some(Kind::Text));
    }

    #[test]
    fn everything_else_is_refused() {
        // An ELF, a plain zip, an OLE file that is neither doc nor xls, HTML that is not text
        // (a NUL), an empty file, a PE executable.
        assert_eq!(kind(b"\x7FELF\x02\x01\x01\x00\x00\x00", false), None);
        assert_eq!(kind(&zip(&[("a.txt", b"hi")]), false), None);
        assert_eq!(
            kind(&zip(&[("word/document.xml", b"<w/>")]), false),
            None,
            "no content types"
        );
        let docm = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w/>"),
            ("word/vbaProject.bin", b"\x00"),
        ]);
        assert_eq!(kind(&docm, false), None, "macros");
        assert_eq!(
            kind(&ole("00000000-0000-0000-0000-000000000001"), false),
            None
        );
        assert_eq!(kind(b"<html>\x00", false), None);
        assert_eq!(kind(b"", true), None);
        assert_eq!(kind(b"MZ\x90\x00\x03\x00", false), None);
        // Bytes of a type, whatever the text check said, are that type: a PNG is never text.
        let png = hex::decode(PNG_1X1).unwrap();
        assert_eq!(kind(&png, true), Some(Kind::Png));
    }

    #[test]
    fn text_is_utf8_without_nul_even_when_a_character_is_cut_between_chunks() {
        let s = "naïve café — 日本語 🎉".as_bytes();
        assert!(text_of(&[s]));
        for cut in 0..=s.len() {
            assert!(text_of(&[&s[..cut], &s[cut..]]), "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = s.chunks(1).collect();
        assert!(text_of(&bytes), "one byte at a time");
        assert!(!text_of(&[b"abc\x00def"]));
        assert!(!text_of(&[b"abc", b"\xFF"]));
        assert!(!text_of(&[b"\xC3"]), "a character cut off at the end");
        assert!(
            !text_of(&[b"\xC3", b"("]),
            "an invalid continuation across chunks"
        );
        assert!(!text_of(&[b"\xE6\x97", b"\x00"]));
        assert!(!text_of(&[b"\xED\xA0\x80"]), "a surrogate");
    }

    #[test]
    fn a_name_must_not_say_another_type_than_the_bytes() {
        assert_eq!(name_matches(Kind::Png, "photo.PNG"), Ok(()));
        assert_eq!(name_matches(Kind::Png, "photo"), Ok(()));
        assert_eq!(name_matches(Kind::Jpeg, "me.jpeg"), Ok(()));
        assert_eq!(name_matches(Kind::Pdf, "report.v2"), Ok(()));
        assert_eq!(name_matches(Kind::Text, "notes.txt"), Ok(()));
        assert_eq!(name_matches(Kind::Text, "data.csv"), Ok(()));
        assert_eq!(
            name_matches(Kind::Text, "x.png"),
            Err(NameRefusal::Mismatch)
        );
        assert_eq!(name_matches(Kind::Png, "x.pdf"), Err(NameRefusal::Mismatch));
        assert_eq!(
            name_matches(Kind::Docx, "x.zip"),
            Err(NameRefusal::Mismatch)
        );
        assert_eq!(
            name_matches(Kind::Text, "page.html"),
            Err(NameRefusal::Active)
        );
        assert_eq!(name_matches(Kind::Png, "pic.svg"), Err(NameRefusal::Active));
        assert_eq!(
            name_matches(Kind::Pdf, "x.pdf.exe"),
            Err(NameRefusal::Active)
        );
        assert_eq!(name_matches(Kind::Text, ".bashrc"), Ok(()));
    }

    #[test]
    fn the_shown_name_is_safe() {
        assert_eq!(
            display_name("C:\\Users\\me\\scan.pdf", Kind::Pdf),
            "scan.pdf"
        );
        assert_eq!(display_name("../../etc/passwd", Kind::Text), "passwd");
        assert_eq!(display_name("a\u{0}b\nc\u{7f}.txt", Kind::Text), "abc.txt");
        assert_eq!(
            display_name("invoice\u{202E}fdp.exe", Kind::Pdf),
            "invoicefdp.exe"
        );
        assert_eq!(display_name("  ", Kind::Png), "file.png");
        assert_eq!(display_name("dir/", Kind::Pdf), "file.pdf");
        assert_eq!(display_name("..", Kind::Pdf), "file.pdf");
        assert_eq!(
            display_name("<b>x<i>.txt", Kind::Text),
            "<b>x<i>.txt",
            "escaped where shown"
        );
        let long = format!("{}.pdf", "é".repeat(500));
        let shown = display_name(&long, Kind::Pdf);
        assert_eq!(shown.chars().count(), MAX_NAME_CHARS);
        assert!(shown.ends_with("….pdf"), "{shown}");
        let long = "x".repeat(300);
        assert_eq!(
            display_name(&long, Kind::Text).chars().count(),
            MAX_NAME_CHARS
        );
    }
}
