//! Provider instances by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::provider::Provider;

/// The configured provider instances, keyed by instance name
/// ([`ProviderDescriptor::instance`](crate::ProviderDescriptor::instance)).
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.providers.values().map(|p| p.descriptor()))
            .finish()
    }
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider under its descriptor's instance name; refuses a name already taken.
    pub fn register(&mut self, provider: Arc<dyn Provider>) -> Result<()> {
        let name = provider.descriptor().instance.clone();
        if self.providers.contains_key(&name) {
            return Err(Error::Config(format!(
                "provider instance {name:?} is registered twice"
            )));
        }
        self.providers.insert(name, provider);
        Ok(())
    }

    /// The provider with this instance name.
    pub fn get(&self, instance: &str) -> Option<Arc<dyn Provider>> {
        self.providers.get(instance).cloned()
    }

    /// The provider with this instance name, or a configuration error naming it.
    pub fn require(&self, instance: &str) -> Result<Arc<dyn Provider>> {
        self.get(instance)
            .ok_or_else(|| Error::Config(format!("no provider instance named {instance:?}")))
    }

    /// Instance names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// Every provider, sorted by instance name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn Provider>)> {
        self.providers.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }
}
