//! Reading OpenStack error bodies and `Retry-After`: each service has its own error shape.

use std::time::Duration;

use serde_json::Value;

/// Code and message found in an error body.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Fault {
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    pub(crate) retry_after: Option<Duration>,
}

/// Longest message kept from an error body.
const MAX_MESSAGE: usize = 500;

/// Parses an error body of any OpenStack service:
/// Nova and Cinder `{"badRequest": {"message", "code", "retryAfter"?}}`,
/// Neutron `{"NeutronError": {"type", "message"}}`, Keystone `{"error": {"message", "title"}}`,
/// Placement `{"errors": [{"title", "detail"}]}`, Glance and the rest: text or HTML.
pub(crate) fn parse(body: &[u8]) -> Fault {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        if let Some(Value::Object(err)) = map.get("NeutronError") {
            return Fault {
                code: text(err.get("type")),
                message: clean(&text(err.get("message")).unwrap_or_default()),
                retry_after: None,
            };
        }
        if let Some(Value::Object(err)) = map.get("error") {
            return Fault {
                code: text(err.get("title")),
                message: clean(&text(err.get("message")).unwrap_or_default()),
                retry_after: None,
            };
        }
        if let Some(Value::Array(errors)) = map.get("errors")
            && let Some(Value::Object(err)) = errors.first()
        {
            let message = text(err.get("detail")).or_else(|| text(err.get("title")));
            return Fault {
                code: text(err.get("code")).or_else(|| text(err.get("title"))),
                message: clean(&message.unwrap_or_default()),
                retry_after: None,
            };
        }
        if map.len() == 1
            && let Some((code, Value::Object(err))) = map.iter().next()
        {
            return Fault {
                code: Some(code.clone()),
                message: clean(&text(err.get("message")).unwrap_or_default()),
                retry_after: err.get("retryAfter").and_then(seconds_value),
            };
        }
        if let Some(message) = text(map.get("message")) {
            return Fault {
                code: None,
                message: clean(&message),
                retry_after: None,
            };
        }
    }
    Fault {
        code: None,
        message: clean(&String::from_utf8_lossy(body)),
        retry_after: None,
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn seconds_value(value: &Value) -> Option<Duration> {
    match value {
        Value::Number(n) => n.as_f64().and_then(secs),
        Value::String(s) => s.trim().parse::<f64>().ok().and_then(secs),
        _ => None,
    }
}

fn secs(s: f64) -> Option<Duration> {
    (s.is_finite() && (0.0..86_400.0).contains(&s)).then(|| Duration::from_secs_f64(s))
}

/// Strips HTML tags (Glance's 404 bodies carry some), collapses whitespace, bounds the length.
pub(crate) fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_MESSAGE));
    let mut in_tag = false;
    let mut last_space = true;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            }
            _ if in_tag => {}
            c if c.is_whitespace() => {
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            }
            c => {
                out.push(c);
                last_space = false;
            }
        }
        if out.len() >= MAX_MESSAGE {
            out.push('…');
            break;
        }
    }
    out.trim().to_owned()
}

/// Reads a `Retry-After` header: delta-seconds or an HTTP date.
pub(crate) fn retry_after(header: &str) -> Option<Duration> {
    let header = header.trim();
    if let Ok(seconds) = header.parse::<f64>() {
        return secs(seconds);
    }
    let when = chrono::DateTime::parse_from_rfc2822(header).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_service_shape() {
        let nova = br#"{"badRequest": {"code": 400, "message": "Flavor 999 could not be found."}}"#;
        assert_eq!(
            parse(nova),
            Fault {
                code: Some("badRequest".into()),
                message: "Flavor 999 could not be found.".into(),
                retry_after: None
            }
        );
        let neutron = br#"{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['network'].", "detail": ""}}"#;
        let f = parse(neutron);
        assert_eq!(f.code.as_deref(), Some("OverQuota"));
        assert!(f.message.starts_with("Quota exceeded"));
        let keystone = br#"{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}"#;
        assert_eq!(parse(keystone).code.as_deref(), Some("Unauthorized"));
        let cinder = br#"{"overLimit": {"code": 413, "message": "VolumeSizeExceedsAvailableQuota: Requested volume exceeds allowed gigabytes quota", "retryAfter": "0"}}"#;
        let f = parse(cinder);
        assert_eq!(f.code.as_deref(), Some("overLimit"));
        assert_eq!(f.retry_after, Some(Duration::ZERO));
        let placement = br#"{"errors": [{"status": 404, "title": "Not Found", "detail": "No resource provider"}]}"#;
        assert_eq!(parse(placement).message, "No resource provider");
        let glance = b"<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID x<br /><br />\n\n\n\n </body>\n</html>";
        assert_eq!(
            parse(glance).message,
            "404 Not Found 404 Not Found No image found with ID x"
        );
    }

    #[test]
    fn bounds_long_messages() {
        let long = "x".repeat(5000);
        assert!(clean(&long).len() <= MAX_MESSAGE + 4);
    }

    #[test]
    fn reads_retry_after_seconds_and_dates() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after("-3"), None);
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(retry_after("soon"), None);
    }
}
