//! Times as the API gives them (RFC 3339 strings or epoch milliseconds) and as people read them
//! (`4m12s`, `3h ago`), and `--since 1h`.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// An instant from an RFC 3339 string or epoch milliseconds.
pub(crate) fn instant(v: Option<&Value>) -> Option<DateTime<Utc>> {
    match v? {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc)),
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    }
}

/// A duration for people: `850ms`, `12.3s`, `4m12s`, `3h05m`, `2d04h`.
pub(crate) fn human(d: Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return format!("{:.1}s", ms as f64 / 1000.0);
    }
    let s = ms / 1000;
    if s < 3600 {
        return format!("{}m{:02}s", s / 60, s % 60);
    }
    if s < 86_400 {
        return format!("{}h{:02}m", s / 3600, (s % 3600) / 60);
    }
    format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
}

/// How long ago, coarsely: `12s`, `4m`, `3h`, `2d`.
pub(crate) fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - at).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// `--since`: `90s`, `30m`, `1h`, `2d`, `1w`, or an RFC 3339 instant.
pub(crate) fn since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    let err =
        || format!("{s:?}: expected a duration like 90s, 30m, 1h, 2d, 1w, or an RFC 3339 time");
    let unit_at = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (n, unit) = s.split_at(unit_at);
    let n: i64 = n.parse().map_err(|_| err())?;
    let d = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => None,
    }
    .ok_or_else(err)?;
    now.checked_sub_signed(d).ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instants_durations_and_ages() {
        let a = instant(Some(&json!("2026-01-02T03:04:05Z"))).unwrap();
        let b = instant(Some(&json!(a.timestamp_millis() + 252_000))).unwrap();
        assert_eq!(human(b - a), "4m12s");
        assert_eq!(human(Duration::milliseconds(850)), "850ms");
        assert_eq!(human(Duration::milliseconds(12_340)), "12.3s");
        assert_eq!(human(Duration::minutes(185)), "3h05m");
        assert_eq!(human(Duration::hours(52)), "2d04h");
        assert_eq!(age(a, b), "4m");
        assert!(instant(Some(&json!(true))).is_none());
        assert!(instant(None).is_none());
    }

    #[test]
    fn since_takes_durations_and_instants() {
        let now = instant(Some(&json!("2026-01-02T03:04:05Z"))).unwrap();
        assert_eq!(since("1h", now).unwrap(), now - Duration::hours(1));
        assert_eq!(since("90s", now).unwrap(), now - Duration::seconds(90));
        assert_eq!(since("2d", now).unwrap(), now - Duration::days(2));
        assert_eq!(
            since("2026-01-01T00:00:00Z", now).unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        for bad in ["", "h", "1y", "1.5h", "-1h"] {
            assert!(since(bad, now).is_err(), "{bad}");
        }
    }
}
