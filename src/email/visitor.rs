//! The emails a visitor gets (issue 15): the staff replies they missed, with a link that
//! resumes the chat, and the transcript they asked for at the end of a chat. Both show only
//! what the visitor could see in the chat (never notes: the excerpt is read without them).

use super::compose::{build, message_text, Body, Brand};
use super::Loaded;
use crate::model::{
    Message, Visitor, MESSAGE_ATTACHMENT, MESSAGE_CHAT, MESSAGE_NOTE, MESSAGE_SYSTEM,
};
use lettre::message::Mailbox;
use lettre::Message as Email;

/// A message of staff the visitor can read: a chat message or a file.
pub fn is_reply(m: &Message) -> bool {
    m.sender.is_some() && (m.type_id == MESSAGE_CHAT || m.type_id == MESSAGE_ATTACHMENT)
}

/// The name the visitor sees for a message's sender.
fn who<'a>(m: &Message, loaded: &'a Loaded) -> &'a str {
    let Some(id) = &m.sender else { return "You" };
    loaded
        .excerpt
        .as_ref()
        .and_then(|e| e.names.iter().find(|(s, _)| s == id))
        .map(|(_, n)| n.as_str())
        .unwrap_or("Support")
}

/// A message as a line (or lines) of text: "Name: words"; a file by its name and size.
fn line(m: &Message, loaded: &Loaded) -> Option<String> {
    message_line(m, who(m, loaded), |file, size| {
        format!("(a file: {file}, {})", human_size(size))
    })
}

/// The one transcript formatter (the visitor's emails and `GET /api/v1/chats/{id}/transcript`):
/// a message as "Name: words" (later lines indented), a file as `file(name, size)` says, a join
/// or leave in parentheses, an internal note marked as one; `None` for what a transcript does
/// not show. `name` is the sender's name as the reader should see it.
pub fn message_line(m: &Message, name: &str, file: impl Fn(&str, u64) -> String) -> Option<String> {
    match m.type_id {
        MESSAGE_CHAT | MESSAGE_ATTACHMENT | MESSAGE_NOTE => {
            let text = match attachment(m) {
                Some((f, size)) => file(&f, size),
                None => message_text(&m.content),
            };
            let name = match m.type_id {
                MESSAGE_NOTE => format!("{name} (internal note)"),
                _ => name.to_string(),
            };
            Some(format!("{name}: {}", text.replace('\n', "\n  ")))
        }
        MESSAGE_SYSTEM => {
            let v: serde_json::Value = serde_json::from_str(m.content.get()).ok()?;
            match v.get("content").and_then(|c| c.as_str())? {
                "join room" if m.sender.is_some() => Some(format!("({name} joined the chat)")),
                "leave room" if m.sender.is_some() => Some(format!("({name} left the chat)")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A file message's `(name, size)`.
pub fn attachment(m: &Message) -> Option<(String, u64)> {
    let v: serde_json::Value = serde_json::from_str(m.content.get()).ok()?;
    let a = v.get("attachment")?;
    Some((
        a.get("name")?.as_str()?.to_string(),
        a.get("size").and_then(|s| s.as_u64()).unwrap_or(0),
    ))
}

fn human_size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{} KB", n.div_ceil(1 << 10)),
        n => format!("{n} bytes"),
    }
}

fn address(visitor: &Visitor) -> Result<Option<Mailbox>, String> {
    let Some(email) = visitor.email.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let mut to = super::settings::mailbox(email).map_err(|why| format!("The visitor's {why}"))?;
    if !visitor.is_anonymous && !visitor.name.trim().is_empty() {
        to.name = Some(visitor.name.clone());
    }
    Ok(Some(to))
}

/// The replies a visitor missed; `None` when there are none or no address.
pub fn replies(
    brand: &Brand,
    from: &Mailbox,
    visitor: &Visitor,
    loaded: &Loaded,
) -> Result<Option<Email>, String> {
    let (Some(excerpt), Some(url)) = (&loaded.excerpt, &loaded.resume_url) else {
        return Ok(None);
    };
    let Some(to) = address(visitor)? else {
        return Ok(None);
    };
    let replies: Vec<&Message> = excerpt.messages.iter().filter(|m| is_reply(m)).collect();
    let Some(first) = replies.first() else {
        return Ok(None);
    };
    let quote: Vec<String> = replies.iter().filter_map(|m| line(m, loaded)).collect();
    let writer = who(first, loaded);
    let body = Body {
        heading: format!("{writer} replied"),
        lead: format!(
            "While you were away, {} answered in your chat with {}.",
            if replies.len() == 1 {
                writer.to_string()
            } else {
                "we".to_string()
            },
            brand.name
        ),
        quote: Some(quote.join("\n")),
        link: Some(("Continue the conversation", url.clone())),
        footer: format!(
            "You get this email because you gave this address in a chat with {} and a reply \
             came while you were away. The link works for 7 days, on any device.",
            brand.name
        ),
    };
    let subject = format!("{writer} replied to you ({})", brand.name);
    build(from, &[to], &subject, &body, brand).map(Some)
}

/// The transcript of an ended chat, to the address the visitor asked for.
pub fn transcript(
    brand: &Brand,
    from: &Mailbox,
    to: &Mailbox,
    loaded: &Loaded,
) -> Result<Option<Email>, String> {
    let Some(excerpt) = &loaded.excerpt else {
        return Ok(None);
    };
    let mut lines: Vec<String> = excerpt
        .messages
        .iter()
        .filter_map(|m| line(m, loaded))
        .collect();
    if excerpt.messages.len() as i64 >= super::MAX_EXCERPT {
        lines.push(format!(
            "(The chat goes on; this transcript has its first {} messages.)",
            super::MAX_EXCERPT
        ));
    }
    if lines.is_empty() {
        lines.push("(No messages.)".into());
    }
    let when = excerpt
        .messages
        .first()
        .and_then(|m| jiff::Timestamp::from_millisecond(m.created_at).ok())
        .map(|t| format!(" on {}", t.strftime("%Y-%m-%d at %H:%M UTC")))
        .unwrap_or_default();
    let body = Body {
        heading: format!("Your chat with {}", brand.name),
        lead: format!("Here is the transcript of your chat{when}, as you asked."),
        quote: Some(lines.join("\n")),
        link: None,
        footer: format!(
            "You get this email because you asked for the transcript of your chat with {} at \
             its end. It is sent once.",
            brand.name
        ),
    };
    let subject = format!("Your chat transcript ({})", brand.name);
    build(from, std::slice::from_ref(to), &subject, &body, brand).map(Some)
}
