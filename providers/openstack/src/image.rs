//! Glance (image): finding an image by OS name and version.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;

use crate::auth::{Request, Session};
use crate::error::Result;

const SERVICE: &str = "image";
/// Pages of a listing followed at most.
const MAX_PAGES: usize = 20;

/// An image.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Image {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `active`, `queued`, `saving`...
    pub status: String,
    /// OS name property (`debian`).
    #[serde(default)]
    pub os_distro: Option<String>,
    /// OS version property (`12`).
    #[serde(default)]
    pub os_version: Option<String>,
    /// Creation time (RFC 3339), to prefer the newest build.
    #[serde(default)]
    pub created_at: String,
}

/// Glance client.
#[derive(Debug)]
pub struct Glance {
    session: Arc<Session>,
}

impl Glance {
    /// A client calling through `session`.
    pub fn new(session: Arc<Session>) -> Self {
        Glance { session }
    }

    /// Images matching these filters (any Glance filter: `name`, `status`, properties),
    /// following pagination.
    pub async fn list(&self, filters: &[(&str, String)]) -> Result<Vec<Image>> {
        #[derive(Deserialize)]
        struct Page {
            images: Vec<Image>,
            #[serde(default)]
            next: Option<String>,
        }
        let mut images = Vec::new();
        let mut query: Vec<(&str, String)> = filters.to_vec();
        query.push(("limit", "200".to_owned()));
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page: Page = match &next {
                None => {
                    let mut request = Request::new(SERVICE, Method::GET, "v2/images");
                    request.query = &query;
                    self.session.send(request).await?.json()?
                }
                Some(next) => {
                    // `next` is a path with its query, relative to the endpoint root.
                    let path = next.trim_start_matches('/');
                    self.session
                        .send(Request::new(SERVICE, Method::GET, path))
                        .await?
                        .json()?
                }
            };
            images.extend(page.images);
            match page.next {
                Some(n) => next = Some(n),
                None => break,
            }
        }
        Ok(images)
    }

    /// The active image for an OS name and version: by the `os_distro` and `os_version`
    /// properties, else by the name `<os>-<version>`; the newest when several match.
    pub async fn find_os(&self, os: &str, version: &str) -> Result<Option<Image>> {
        let active = ("status", "active".to_owned());
        let mut found = self
            .list(&[
                ("os_distro", os.to_owned()),
                ("os_version", version.to_owned()),
                active.clone(),
            ])
            .await?;
        if found.is_empty() {
            found = self
                .list(&[("name", format!("{os}-{version}")), active])
                .await?;
        }
        Ok(found
            .into_iter()
            .max_by(|a, b| a.created_at.cmp(&b.created_at)))
    }

    /// One image by id, `None` if Glance does not know it.
    pub async fn image(&self, id: &str) -> Result<Option<Image>> {
        let path = format!("v2/images/{id}");
        match self
            .session
            .send(Request::new(SERVICE, Method::GET, &path))
            .await
        {
            Ok(reply) => reply.json().map(Some),
            Err(e) if e.is_status(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// An active image by id or, failing that, by exact name (the newest of that name).
    pub async fn find_ref(&self, reference: &str) -> Result<Option<Image>> {
        if looks_like_uuid(reference)
            && let Some(image) = self.image(reference).await?
        {
            return Ok((image.status == "active").then_some(image));
        }
        let by_name = self
            .list(&[
                ("name", reference.to_owned()),
                ("status", "active".to_owned()),
            ])
            .await?;
        Ok(by_name
            .into_iter()
            .max_by(|a, b| a.created_at.cmp(&b.created_at)))
    }
}

fn looks_like_uuid(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_uuids() {
        assert!(super::looks_like_uuid(
            "6b4f3c5e-0000-4000-8000-000000000000"
        ));
        assert!(super::looks_like_uuid("6b4f3c5e000040008000000000000000"));
        assert!(!super::looks_like_uuid("debian-12-genericcloud"));
    }
}
