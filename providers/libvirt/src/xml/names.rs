//! Names of libvirt objects.

use crate::error::{Error, Result};

/// Checks a name for a libvirt domain, volume or network: 1 to 200 characters from
/// `[A-Za-z0-9._-]`, not starting with `-` or `.` (safe in paths, bridge-free, shell-free).
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['-', '.'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSpec(format!(
            "{kind} name `{name}` must be 1 to 200 characters of [A-Za-z0-9._-], not starting \
             with `-` or `.`"
        )))
    }
}
