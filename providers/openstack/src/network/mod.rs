//! Neutron (network): networks, subnets, security groups and rules, ports, tags.

mod types;

use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

pub use types::{FixedIp, Network, Port, SecurityGroup, SecurityGroupRule, Subnet};

use crate::auth::{Request, Session};
use crate::error::{Error, Result};

const SERVICE: &str = "network";

/// Neutron client.
#[derive(Debug)]
pub struct Neutron {
    session: Arc<Session>,
}

/// The Neutron collections this client manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// `networks`
    Networks,
    /// `subnets`
    Subnets,
    /// `security-groups`
    SecurityGroups,
    /// `ports`
    Ports,
}

impl Collection {
    fn path(self) -> &'static str {
        match self {
            Collection::Networks => "v2.0/networks",
            Collection::Subnets => "v2.0/subnets",
            Collection::SecurityGroups => "v2.0/security-groups",
            Collection::Ports => "v2.0/ports",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Collection::Networks => "networks",
            Collection::Subnets => "subnets",
            Collection::SecurityGroups => "security_groups",
            Collection::Ports => "ports",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Collection::Networks => "network",
            Collection::Subnets => "subnet",
            Collection::SecurityGroups => "security_group",
            Collection::Ports => "port",
        }
    }
}

impl Neutron {
    /// A client calling through `session`.
    pub fn new(session: Arc<Session>) -> Self {
        Neutron { session }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<crate::http::Reply> {
        let mut request = Request::new(SERVICE, method, path);
        request.query = query;
        request.body = body;
        self.session.send(request).await
    }

    /// Lists a collection with filters (`name`, `network_id`...).
    pub async fn list<T: DeserializeOwned>(
        &self,
        collection: Collection,
        query: &[(&str, String)],
    ) -> Result<Vec<T>> {
        let reply = self
            .call(Method::GET, collection.path(), query, None)
            .await?;
        let mut body: Map<String, Value> = reply.json()?;
        let items = body
            .remove(collection.plural())
            .ok_or_else(|| Error::Decode {
                service: SERVICE,
                message: format!("no `{}` in the listing", collection.plural()),
            })?;
        serde_json::from_value(items).map_err(|e| Error::Decode {
            service: SERVICE,
            message: e.to_string(),
        })
    }

    /// Items of a collection with exactly this name.
    pub async fn named<T: DeserializeOwned>(
        &self,
        collection: Collection,
        name: &str,
    ) -> Result<Vec<T>> {
        self.list(collection, &[("name", name.to_owned())]).await
    }

    /// One item, `None` if Neutron does not know it.
    pub async fn get<T: DeserializeOwned>(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Option<T>> {
        let path = format!("{}/{id}", collection.path());
        match self.call(Method::GET, &path, &[], None).await {
            Ok(reply) => {
                let mut body: Map<String, Value> = reply.json()?;
                let item = body.remove(collection.singular()).unwrap_or(Value::Null);
                serde_json::from_value(item)
                    .map(Some)
                    .map_err(|e| Error::Decode {
                        service: SERVICE,
                        message: e.to_string(),
                    })
            }
            Err(e) if e.is_status(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates an item from its attributes (`{"name": ..., ...}`).
    pub async fn create<T: DeserializeOwned>(
        &self,
        collection: Collection,
        attributes: Value,
    ) -> Result<T> {
        let body = json!({ collection.singular(): attributes });
        let reply = self
            .call(Method::POST, collection.path(), &[], Some(&body))
            .await?;
        let mut body: Map<String, Value> = reply.json()?;
        let item = body.remove(collection.singular()).unwrap_or(Value::Null);
        serde_json::from_value(item).map_err(|e| Error::Decode {
            service: SERVICE,
            message: e.to_string(),
        })
    }

    /// Updates an item's attributes.
    pub async fn update(&self, collection: Collection, id: &str, attributes: Value) -> Result<()> {
        let body = json!({ collection.singular(): attributes });
        let path = format!("{}/{id}", collection.path());
        self.call(Method::PUT, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    /// Deletes an item. `false` if it was already gone.
    pub async fn delete(&self, collection: Collection, id: &str) -> Result<bool> {
        let path = format!("{}/{id}", collection.path());
        match self.call(Method::DELETE, &path, &[], None).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_status(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Replaces the tags of an item.
    pub async fn set_tags(&self, collection: Collection, id: &str, tags: &[String]) -> Result<()> {
        let path = format!("{}/{id}/tags", collection.path());
        let body = json!({ "tags": tags });
        self.call(Method::PUT, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    /// Adds a security group rule.
    pub async fn create_rule(&self, attributes: Value) -> Result<SecurityGroupRule> {
        let body = json!({ "security_group_rule": attributes });
        let reply = self
            .call(Method::POST, "v2.0/security-group-rules", &[], Some(&body))
            .await?;
        #[derive(serde::Deserialize)]
        struct One {
            security_group_rule: SecurityGroupRule,
        }
        Ok(reply.json::<One>()?.security_group_rule)
    }

    /// Removes a security group rule. `false` if it was already gone.
    pub async fn delete_rule(&self, id: &str) -> Result<bool> {
        let path = format!("v2.0/security-group-rules/{id}");
        match self.call(Method::DELETE, &path, &[], None).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_status(404) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
