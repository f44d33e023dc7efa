//! The table and the parsers: every refusal named, content kept byte for byte.

use super::*;

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_string()).unwrap()
}

fn parse(name: &str, data: Option<&str>) -> Result<Request, String> {
    let d = data.map(raw);
    Request::parse(name, d.as_deref(), 100).map_err(|r| r.sentence.into_owned())
}

fn nested(levels: usize) -> String {
    format!(
        "{{\"c\":{}1{}}}",
        "[".repeat(levels - 1),
        "]".repeat(levels - 1)
    )
}

#[test]
fn content_that_would_trip_a_reader_later_is_refused_at_the_door() {
    let refused = [
        r#"{"c":"\ud800"}"#.to_string(),
        r#"{"c":"a\udc00b"}"#.to_string(),
        r#"{"\ud83d":1}"#.to_string(),
        r#"{"c":"\ud83d\u0041"}"#.to_string(),
        r#"{"c":1e999}"#.to_string(),
        r#"{"c":[-1e400]}"#.to_string(),
        nested(MAX_CONTENT_DEPTH + 1),
        nested(200),
        format!("{{\"c\":{}", "[".repeat(100_000)),
    ];
    for text in &refused {
        let r = parse_big("visitor_msg", text);
        assert!(r.is_err(), "accepted {}", &text[..text.len().min(60)]);
    }
    let deep = parse_big("visitor_msg", &nested(200)).unwrap_err();
    assert!(deep.contains("nested too deeply"), "{deep}");
    let accepted = [
        r#"{"c":"\ud83d\ude00 ok"}"#.to_string(),
        r#"{"c":"😀","n":[1,2.5,-3e9,null,true,{"x":[]}]}"#.to_string(),
        nested(MAX_CONTENT_DEPTH),
    ];
    for text in &accepted {
        match parse_big(
            "staff_msg",
            &format!(r#"{{"visitor":"v","content":{text}}}"#),
        ) {
            Ok(Request {
                body: Family::Messages(messages::Messages::Staff { content, .. }),
                ..
            }) => assert_eq!(content.get(), text),
            other => panic!("{text}: {other:?}"),
        }
    }
}

fn parse_big(name: &str, data: &str) -> Result<Request, String> {
    // Text that is not even JSON never becomes a RawValue: the transports refuse it first.
    let d = RawValue::from_string(data.to_string()).map_err(|e| e.to_string())?;
    Request::parse(name, Some(&d), 1 << 20).map_err(|r| r.sentence.into_owned())
}

#[test]
fn content_is_kept_byte_for_byte() {
    let r = parse("visitor_msg", Some(r#"{"content": "hi",  "timestamp": 1}"#)).unwrap();
    match r.body {
        Family::Messages(messages::Messages::Visitor { content, .. }) => {
            assert_eq!(content.get(), r#"{"content": "hi",  "timestamp": 1}"#)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_fields_are_named() {
    let cases = [
        ("visitor_msg", None, "Missing/Invalid field: content"),
        (
            "visitor_msg",
            Some("\"text\""),
            "Missing/Invalid field: content",
        ),
        ("visitor_msg", Some("[1]"), "Missing/Invalid field: content"),
        ("staff_join", None, "Missing/Invalid field: visitor"),
        ("staff_join", Some("{}"), "Missing/Invalid field: visitor"),
        (
            "staff_join",
            Some(r#"{"visitor": 5}"#),
            "Missing/Invalid field: visitor",
        ),
        (
            "staff_msg",
            Some(r#"{"visitor": "a"}"#),
            "Missing/Invalid field: content",
        ),
        (
            "staff_msg",
            Some(r#"{"visitor": "a", "content": "x"}"#),
            "Missing/Invalid field: content",
        ),
        (
            "add_staff_to_chat",
            Some(r#"{"visitor": "a"}"#),
            "Missing/Invalid field: staff",
        ),
        (
            "change_chat_priority",
            Some(r#"{"visitor": "a", "severity_level": -1}"#),
            "Missing/Invalid field: severity_level",
        ),
        (
            "change_chat_priority",
            Some(r#"{"visitor": "a", "severity_level": true}"#),
            "Missing/Invalid field: severity_level",
        ),
        (
            "change_chat_priority",
            Some(r#"{"visitor": "a", "severity_level": 1.5}"#),
            "Missing/Invalid field: severity_level",
        ),
        (
            "user_typing_send",
            Some(r#"{"visitor": []}"#),
            "Missing/Invalid field: visitor",
        ),
        ("no_such_event", None, "Unknown event: no_such_event"),
    ];
    for (name, data, want) in cases {
        assert_eq!(parse(name, data).unwrap_err(), want, "{name} {data:?}");
    }
    let big = format!(r#"{{"content": "{}"}}"#, "x".repeat(200));
    assert!(parse("visitor_msg", Some(&big))
        .unwrap_err()
        .contains("limit of 100 bytes"));
}

#[test]
fn priority_defaults_to_zero() {
    match parse("change_chat_priority", Some(r#"{"visitor": "a"}"#)).unwrap() {
        Request {
            body: Family::Supervision(supervision::Supervision::Priority { severity_level, .. }),
            ..
        } => assert_eq!(severity_level, 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_refusal_of_the_parsers_has_its_code() {
    let code = |name: &str, data: Option<&str>| {
        let d = data.map(raw);
        Request::parse(name, d.as_deref(), 100).unwrap_err().code
    };
    assert_eq!(code("staff_join", None), Code::InvalidField);
    assert_eq!(code("no_such_event", None), Code::UnknownEvent);
    let big = format!(r#"{{"content": "{}"}}"#, "x".repeat(200));
    assert_eq!(code("visitor_msg", Some(&big)), Code::TooLarge);
    for bad in [r#"{"status": "busy"}"#, r#"{"status": 1}"#, "{}", "[]"] {
        assert_eq!(
            code("set_availability", Some(bad)),
            Code::InvalidField,
            "{bad}"
        );
    }
    assert_eq!(code("set_availability", None), Code::InvalidField);
}

#[test]
fn the_table_names_each_event_once() {
    let mut seen = std::collections::HashSet::new();
    for e in EVENTS {
        assert!(seen.insert(e.name), "{} twice", e.name);
    }
}

#[test]
fn client_message_ids_and_sync_fields_are_checked() {
    let with_id = |id: &str| {
        let d = raw(r#"{"content": "x"}"#);
        let id = raw(id);
        Request::parse_args(&Args {
            name: "visitor_msg",
            data: Some(&d),
            max_content: 100,
            client_msg_id: Some(&id),
        })
    };
    assert!(with_id(r#""abc""#).is_ok());
    assert!(with_id("null").is_ok());
    for bad in ["5", r#""""#, &format!("\"{}\"", "x".repeat(65)), "{}"] {
        let e = with_id(bad).unwrap_err();
        assert_eq!(
            (e.code, e.sentence.as_ref()),
            (Code::InvalidField, "Missing/Invalid field: client_msg_id"),
            "{bad}"
        );
    }
    let e = parse(
        "staff_msg",
        Some(r#"{"visitor": "v", "content": {}, "client_msg_id": 1}"#),
    );
    assert_eq!(e.unwrap_err(), "Missing/Invalid field: client_msg_id");
    for (data, field) in [
        (r#"{"after_sequence_num": 1}"#, "chat_id"),
        (r#"{"chat_id": "c"}"#, "after_sequence_num"),
        (
            r#"{"chat_id": "c", "after_sequence_num": -1}"#,
            "after_sequence_num",
        ),
        (
            r#"{"chat_id": "c", "after_sequence_num": 1.5}"#,
            "after_sequence_num",
        ),
    ] {
        assert_eq!(
            parse("sync", Some(data)).unwrap_err(),
            format!("Missing/Invalid field: {field}")
        );
    }
}
