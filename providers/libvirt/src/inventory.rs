//! What a host reports about itself: CPUs, memory and the domains it holds. Read from libvirt by
//! the connection code and applied to the [`Pool`](crate::Pool) model.

/// A host's facts, as read in one inventory sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// Physical CPUs (libvirt's `nodeinfo` CPU count).
    pub cpus: u32,
    /// Physical memory in MiB.
    pub memory_mib: u64,
    /// Every domain defined or running on the host, ours or not.
    pub domains: Vec<DomainFacts>,
}

/// One domain on a host. Every defined domain counts against the host's capacity, running or
/// not, since a stopped domain may start again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFacts {
    /// The domain's name (for Nuage's domains, the deterministic resource name).
    pub name: String,
    /// The domain's UUID.
    pub uuid: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// Run state.
    pub state: DomainState,
    /// Nuage's tag in the domain's metadata, when Nuage created it.
    pub tag: Option<DomainTag>,
}

/// The tag Nuage writes in a domain's `<metadata>`: whose it is and which anti-affinity group it
/// belongs to. Read back by inventory sync so placement of the next server of a request spreads
/// away from its siblings, even across calls and process restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainTag {
    /// The tenant (`nuage:tenant`).
    pub tenant: Option<String>,
    /// The service request (`nuage:request`).
    pub request: Option<String>,
    /// The logical resource name within the request (`nuage:resource`).
    pub resource: Option<String>,
    /// The anti-affinity group (servers of one request share it).
    pub group: Option<String>,
}

/// A domain's run state, from libvirt's `virDomainState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    /// Defined, not running.
    Shutoff,
    /// Running (or blocked on I/O, which libvirt reports separately).
    Running,
    /// Paused (suspended) or being saved.
    Paused,
    /// Shutting down.
    ShuttingDown,
    /// Crashed.
    Crashed,
    /// Suspended by guest power management.
    Suspended,
    /// Any state libvirt could not name.
    Unknown,
}

impl DomainState {
    /// Maps libvirt's `virDomainState` number.
    pub fn from_libvirt(state: u32) -> Self {
        match state {
            1 | 2 => DomainState::Running,
            3 => DomainState::Paused,
            4 => DomainState::ShuttingDown,
            5 => DomainState::Shutoff,
            6 => DomainState::Crashed,
            7 => DomainState::Suspended,
            _ => DomainState::Unknown,
        }
    }
}
