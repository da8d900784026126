//! Storage volume XML.

use crate::error::{Error, Result};
use crate::xml::names::check_name;
use crate::xml::to_bytes;
use crate::xml::writer::XmlWriter;

/// A volume's on-disk format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VolumeFormat {
    /// QCOW2: thin, may have a backing image.
    #[default]
    Qcow2,
    /// Raw.
    Raw,
}

impl VolumeFormat {
    fn as_str(self) -> &'static str {
        match self {
            VolumeFormat::Qcow2 => "qcow2",
            VolumeFormat::Raw => "raw",
        }
    }
}

/// A volume to create in a storage pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// The deterministic name (the idempotency key within the pool).
    pub name: String,
    /// Size in bytes.
    pub capacity_bytes: u64,
    /// Format.
    pub format: VolumeFormat,
    /// Path of a QCOW2 image the volume is a thin copy of (a server's boot disk from an image).
    pub backing_path: Option<String>,
}

/// Generates the volume XML.
pub fn volume_xml(spec: &VolumeSpec) -> Result<String> {
    check_name("volume", &spec.name)?;
    if spec.capacity_bytes == 0 {
        return Err(Error::InvalidSpec(format!(
            "volume `{}`: capacity must be positive",
            spec.name
        )));
    }
    if spec.backing_path.is_some() && spec.format != VolumeFormat::Qcow2 {
        return Err(Error::InvalidSpec(format!(
            "volume `{}`: only a qcow2 volume can have a backing image",
            spec.name
        )));
    }
    if let Some(path) = &spec.backing_path
        && (!path.starts_with('/') || path.chars().any(char::is_control))
    {
        return Err(Error::InvalidSpec(format!(
            "volume `{}`: backing image path must be absolute",
            spec.name
        )));
    }
    let capacity = spec.capacity_bytes.to_string();
    let mut w = XmlWriter::new();
    w.open("volume", &[]);
    w.text("name", &[], &spec.name);
    w.text("capacity", &[("unit", "bytes")], &capacity);
    w.open("target", &[])
        .empty("format", &[("type", spec.format.as_str())])
        .close();
    if let Some(path) = &spec.backing_path {
        w.open("backingStore", &[]);
        w.text("path", &[], path);
        w.empty("format", &[("type", "qcow2")]);
        w.close();
    }
    Ok(w.finish())
}

/// A volume as its XML describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDescription {
    /// Name.
    pub name: String,
    /// Size in bytes.
    pub capacity_bytes: u64,
    /// Path on the host.
    pub path: Option<String>,
    /// Format, when libvirt reports one.
    pub format: Option<String>,
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

/// Reads a volume's XML (as `virStorageVolGetXMLDesc` returns it).
pub fn parse_volume(xml: &str) -> Result<VolumeDescription> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Xml(e.to_string()))?;
    let root = doc.root_element();
    if !root.has_tag_name("volume") {
        return Err(Error::Xml("expected <volume>".into()));
    }
    let name = child(root, "name")
        .and_then(|n| n.text())
        .ok_or_else(|| Error::Xml("volume without <name>".into()))?
        .trim()
        .to_owned();
    let cap = child(root, "capacity")
        .ok_or_else(|| Error::Xml(format!("volume `{name}` without <capacity>")))?;
    let value = cap
        .text()
        .unwrap_or_default()
        .trim()
        .parse::<u64>()
        .map_err(|e| Error::Xml(format!("volume `{name}`: <capacity>: {e}")))?;
    let capacity_bytes = to_bytes(value, Some(cap.attribute("unit").unwrap_or("bytes")))?;
    let target = child(root, "target");
    Ok(VolumeDescription {
        path: target
            .and_then(|t| child(t, "path"))
            .and_then(|p| p.text())
            .map(|p| p.trim().to_owned()),
        format: target
            .and_then(|t| child(t, "format"))
            .and_then(|f| f.attribute("type"))
            .map(str::to_owned),
        name,
        capacity_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_backed_volume() {
        let spec = VolumeSpec {
            name: "srv-1-boot".into(),
            capacity_bytes: 10 << 30,
            format: VolumeFormat::Qcow2,
            backing_path: Some("/var/lib/libvirt/images/debian-12.qcow2".into()),
        };
        let xml = volume_xml(&spec).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let backing = doc
            .descendants()
            .find(|n| n.has_tag_name("backingStore"))
            .unwrap();
        assert_eq!(
            backing
                .children()
                .find(|n| n.has_tag_name("path"))
                .unwrap()
                .text(),
            Some("/var/lib/libvirt/images/debian-12.qcow2")
        );
        let back = parse_volume(&xml).unwrap();
        assert_eq!(back.name, "srv-1-boot");
        assert_eq!(back.capacity_bytes, 10 << 30);
        assert_eq!(back.format.as_deref(), Some("qcow2"));
    }

    #[test]
    fn refuses_bad_volumes() {
        let base = VolumeSpec {
            name: "v".into(),
            capacity_bytes: 1,
            format: VolumeFormat::Raw,
            backing_path: None,
        };
        for (spec, needle) in [
            (
                VolumeSpec {
                    capacity_bytes: 0,
                    ..base.clone()
                },
                "capacity",
            ),
            (
                VolumeSpec {
                    name: "../etc".into(),
                    ..base.clone()
                },
                "volume name",
            ),
            (
                VolumeSpec {
                    backing_path: Some("/img".into()),
                    ..base.clone()
                },
                "only a qcow2",
            ),
            (
                VolumeSpec {
                    format: VolumeFormat::Qcow2,
                    backing_path: Some("img".into()),
                    ..base.clone()
                },
                "absolute",
            ),
        ] {
            let err = volume_xml(&spec).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
