//! The emails: a plain-text part and an HTML part with the same words, the business's name
//! and colour, and a footer that says why the reader got it. Everything that came from a
//! visitor or a setting is escaped in the HTML part.

use super::settings::SmtpUrl;
use super::{Loaded, Notice};
use crate::settings::Settings;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

/// The name and colour the emails carry.
pub struct Brand {
    pub name: String,
    /// A CSS colour, `#rrggbb`.
    pub color: String,
}

/// The business as the widget shows it (setting `widget`): its title names the business, and
/// its colour (checked as `#rgb` or `#rrggbb` there) heads every email. "Frontdesk" while
/// the title is empty.
pub fn brand(settings: &Settings) -> Brand {
    let look = &settings.widget;
    let name = match look.title.trim() {
        "" => "Frontdesk".to_string(),
        t => t.to_string(),
    };
    Brand {
        name,
        color: long_hex(&look.color).unwrap_or_else(|| "#2f6fed".into()),
    }
}

/// The text colour that reads on a `#rrggbb` background: near-black on light colours, white on
/// dark ones (as the chat page does for the widget's colour).
fn text_on(background: &str) -> &'static str {
    let channel = |i: usize| {
        let v = background
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0) as f64
            / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let lum = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    if lum > 0.45 {
        "#111827"
    } else {
        "#ffffff"
    }
}

/// `#rgb` as `#rrggbb` (some mail clients know only the long form); anything that is not a
/// hex colour is `None`.
fn long_hex(c: &str) -> Option<String> {
    let hex = c.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_ascii_lowercase())),
        3 => Some(
            hex.chars()
                .flat_map(|c| [c, c])
                .fold(String::from("#"), |mut s, c| {
                    s.push(c.to_ascii_lowercase());
                    s
                }),
        ),
        _ => None,
    }
}

/// Text escaped for HTML (element content and quoted attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The words of a message: the text of a chat message, or what stands for a file.
pub fn message_text(content: &serde_json::value::RawValue) -> String {
    let v: serde_json::Value = serde_json::from_str(content.get()).unwrap_or_default();
    if let Some(t) = v.get("content").and_then(|c| c.as_str()) {
        return t.to_string();
    }
    match v.pointer("/attachment/name").and_then(|n| n.as_str()) {
        Some(name) => format!("(a file: {name})"),
        None => "(a file)".into(),
    }
}

/// One email's words, written once for both parts.
pub(super) struct Body<'a> {
    pub heading: String,
    /// Lines of the lead paragraph.
    pub lead: String,
    /// A quoted message, if any.
    pub quote: Option<String>,
    /// `(label, url)` of the one button.
    pub link: Option<(&'a str, String)>,
    pub footer: String,
}

impl Body<'_> {
    fn text(&self) -> String {
        let mut t = format!("{}\n\n{}\n", self.heading, self.lead);
        if let Some(q) = &self.quote {
            t.push('\n');
            for line in q.lines() {
                t.push_str("> ");
                t.push_str(line);
                t.push('\n');
            }
        }
        if let Some((label, url)) = &self.link {
            t.push_str(&format!("\n{label}: {url}\n"));
        }
        t.push_str(&format!("\n-- \n{}\n", self.footer));
        t
    }

    fn html(&self, brand: &Brand) -> String {
        let color = esc(&brand.color);
        let on = text_on(&brand.color);
        let mut h = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"margin:0;padding:24px;background:#f4f4f5;font-family:system-ui,sans-serif;color:#18181b\">\
             <div style=\"max-width:560px;margin:0 auto;background:#fff;border-radius:8px;overflow:hidden\">\
             <div style=\"background:{color};color:{on};padding:16px 24px;font-weight:600\">{}</div>\
             <div style=\"padding:24px\"><h1 style=\"font-size:18px;margin:0 0 12px\">{}</h1>\
             <p style=\"margin:0 0 16px;white-space:pre-wrap\">{}</p>",
            esc(&self.heading),
            esc(&brand.name),
            esc(&self.heading),
            esc(&self.lead),
        );
        if let Some(q) = &self.quote {
            h.push_str(&format!(
                "<blockquote style=\"margin:0 0 16px;padding:8px 12px;border-left:4px solid {color};\
                 background:#f4f4f5;white-space:pre-wrap\">{}</blockquote>",
                esc(q)
            ));
        }
        if let Some((label, url)) = &self.link {
            h.push_str(&format!(
                "<p style=\"margin:0 0 16px\"><a href=\"{}\" style=\"display:inline-block;background:{color};\
                 color:{on};padding:10px 16px;border-radius:6px;text-decoration:none\">{}</a></p>",
                esc(url),
                esc(label)
            ));
        }
        h.push_str(&format!(
            "</div><div style=\"padding:12px 24px;font-size:12px;color:#52525b;border-top:1px solid #e4e4e7\">{}</div>\
             </div></body></html>",
            esc(&self.footer)
        ));
        h
    }
}

pub(super) fn build(
    from: &Mailbox,
    to: &[Mailbox],
    subject: &str,
    body: &Body,
    brand: &Brand,
) -> Result<Message, String> {
    // A Message-ID of our own (from the host name): mail without one scores as spam.
    let mut b = Message::builder()
        .from(from.clone())
        .subject(subject)
        .message_id(None);
    for m in to {
        b = b.to(m.clone());
    }
    b.multipart(MultiPart::alternative_plain_html(
        body.text(),
        body.html(brand),
    ))
    .map_err(|e| format!("The email could not be built: {e}."))
}

/// The SMTP URL and sender, or why email is off.
pub(super) fn sender(settings: &Settings) -> Result<(SmtpUrl, Mailbox), String> {
    let e = &settings.email;
    let url = e
        .smtp_url
        .clone()
        .ok_or("Email is off: set smtp_url first.")?;
    let from = e
        .email_from
        .clone()
        .ok_or("Email has no sender: set email_from first.")?;
    Ok((url, from))
}

/// The test email an admin sends from the settings.
pub fn test(
    settings: &Settings,
    public_url: &str,
    to: Mailbox,
) -> Result<(SmtpUrl, Message), String> {
    let (url, from) = sender(settings)?;
    let brand = brand(settings);
    let body = Body {
        heading: "Email works".into(),
        lead: format!(
            "This is a test email from {}. If you can read it, the SMTP settings are right.",
            brand.name
        ),
        quote: None,
        link: Some(("Open the console", format!("{public_url}/console/"))),
        footer: format!(
            "You get this email because an admin of {} sent a test email to this address from \
             the settings.",
            brand.name
        ),
    };
    let subject = format!("Test email from {}", brand.name);
    Ok((url, build(&from, &[to], &subject, &body, &brand)?))
}

/// The email for a notice; `None` when email is off or nobody is to hear it.
pub fn notice(
    settings: &Settings,
    public_url: &str,
    notice: &Notice,
    loaded: &Loaded,
) -> Result<Option<(SmtpUrl, Message)>, String> {
    let Ok((url, from)) = sender(settings) else {
        return Ok(None);
    };
    let brand = brand(settings);
    match notice {
        Notice::VisitorReplies { visitor, .. } => {
            super::visitor::replies(&brand, &from, visitor, loaded).map(|m| m.map(|m| (url, m)))
        }
        Notice::Transcript { to, .. } => {
            super::visitor::transcript(&brand, &from, to, loaded).map(|m| m.map(|m| (url, m)))
        }
        Notice::OfflineMessage {
            chat_id,
            visitor,
            content,
        } => {
            let to = &settings.email.notify_emails;
            if to.is_empty() {
                return Ok(None);
            }
            let who = match &visitor.email {
                Some(e) => format!("{} <{e}>", visitor.name),
                None => visitor.name.clone(),
            };
            let body = Body {
                heading: format!("{} left a message", visitor.name),
                lead: format!(
                    "{who} wrote while nobody was available. The chat waits in the offline \
                     queue of the console."
                ),
                quote: Some(message_text(content)),
                link: Some((
                    "Open the chat",
                    format!("{public_url}/console/#chat={}", chat_id.0),
                )),
                footer: format!(
                    "You get this email because your address is on {}'s list of staff told \
                     about messages left while nobody is available (Settings, Email).",
                    brand.name
                ),
            };
            let subject = format!("New message from {} ({})", visitor.name, brand.name);
            Ok(Some((url, build(&from, to, &subject, &body, &brand)?)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_people_wrote() {
        let body = Body {
            heading: "<b>Eve</b> left a message".into(),
            lead: "x & y".into(),
            quote: Some("<script>alert('x')</script>".into()),
            link: Some(("Open", "http://h/console/#chat=\"><x".into())),
            footer: "why".into(),
        };
        let html = body.html(&Brand {
            name: "Shop <3".into(),
            color: "#123456".into(),
        });
        assert!(
            !html.contains("<script>") && !html.contains("<b>Eve"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("Shop &lt;3") && html.contains("x &amp; y"));
        assert!(html.contains("#chat=&quot;&gt;&lt;x"));
        let text = body.text();
        assert!(text.contains("> <script>alert('x')</script>\n"), "{text}");
        assert!(html.contains("background:#123456;color:#ffffff"), "{html}");
    }

    #[test]
    fn the_brand_colour_is_long_and_its_text_readable() {
        assert_eq!(long_hex("#AbC").as_deref(), Some("#aabbcc"));
        assert_eq!(long_hex("#123ABC").as_deref(), Some("#123abc"));
        assert_eq!(long_hex("red"), None);
        assert_eq!(text_on("#ffee00"), "#111827");
        assert_eq!(text_on("#2f6fed"), "#ffffff");
    }
}
