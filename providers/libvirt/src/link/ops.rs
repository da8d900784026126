//! Blocking libvirt calls on one connection. Each function is one unit of work run through
//! [`HostLink::call`](super::HostLink::call); absence is `Ok(None)`, never an error.

use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::{Error as VirtError, ErrorNumber};
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;

use crate::inventory::{DomainFacts, DomainState, HostFacts};
use crate::xml::{DomainDescription, VolumeDescription, parse_domain, parse_volume};

/// A failed unit of work: a libvirt error, or XML from libvirt we could not read.
pub(crate) enum OpError {
    /// libvirt refused or failed.
    Virt(VirtError),
    /// The adapter refused (XML from libvirt it could not read, a missing image).
    Adapter(crate::error::Error),
}

impl From<VirtError> for OpError {
    fn from(e: VirtError) -> Self {
        OpError::Virt(e)
    }
}

impl From<crate::error::Error> for OpError {
    fn from(e: crate::error::Error) -> Self {
        OpError::Adapter(e)
    }
}

impl OpError {
    fn is(&self, code: ErrorNumber) -> bool {
        matches!(self, OpError::Virt(e) if e.code().is(code))
    }
}

type R<T> = Result<T, OpError>;

fn absent<T>(r: Result<T, VirtError>, missing: ErrorNumber) -> R<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code().is(missing) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn exists(e: &VirtError, code: ErrorNumber) -> bool {
    e.code().is(code)
        || (e.code().is(ErrorNumber::OperationFailed) && e.message().contains("already exists"))
}

/// A domain with its description and run state.
pub(crate) struct FoundDomain {
    pub(crate) description: DomainDescription,
    pub(crate) state: DomainState,
}

fn describe(dom: &Domain) -> R<FoundDomain> {
    let xml = dom.xml_desc(0)?;
    let description = parse_domain(&xml)?;
    let (state, _) = dom.state()?;
    Ok(FoundDomain {
        description,
        state: DomainState::from_libvirt(state.to_raw()),
    })
}

/// The host's CPUs, memory and domains.
pub(crate) fn facts(conn: &Connect) -> R<HostFacts> {
    let node = conn.node_info()?;
    let mut domains = Vec::new();
    for dom in conn.list_all_domains(0)? {
        let found = match describe(&dom) {
            Ok(f) => f,
            // Undefined between the listing and the read: not there any more.
            Err(e) if e.is(ErrorNumber::NoDomain) => continue,
            Err(e) => return Err(e),
        };
        let d = found.description;
        domains.push(DomainFacts {
            name: d.name,
            uuid: d.uuid,
            vcpus: d.vcpus,
            memory_mib: d.memory_mib,
            state: found.state,
            tag: d.tag,
        });
    }
    Ok(HostFacts {
        cpus: node.cpus,
        memory_mib: node.memory / 1024,
        domains,
    })
}

/// A domain by name.
pub(crate) fn find_domain(conn: &Connect, name: &str) -> R<Option<FoundDomain>> {
    match absent(conn.lookup_domain_by_name(name), ErrorNumber::NoDomain)? {
        Some(dom) => match describe(&dom) {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is(ErrorNumber::NoDomain) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// Defines the domain unless one of that name exists, then starts it unless it runs.
pub(crate) fn define_and_start(conn: &Connect, name: &str, xml: &str) -> R<FoundDomain> {
    let dom = match conn.define_domain_xml(xml) {
        Ok(d) => d,
        Err(e) if exists(&e, ErrorNumber::DomExist) => conn.lookup_domain_by_name(name)?,
        Err(e) => return Err(e.into()),
    };
    if !dom.is_active()? {
        match dom.create() {
            Ok(()) => {}
            Err(e) if e.code().is(ErrorNumber::OperationInvalid) && dom.is_active()? => {}
            Err(e) => return Err(e.into()),
        }
    }
    describe(&dom)
}

/// Starts a defined domain unless it runs.
pub(crate) fn start_domain(conn: &Connect, name: &str) -> R<FoundDomain> {
    let dom = conn.lookup_domain_by_name(name)?;
    if !dom.is_active()? {
        dom.create()?;
    }
    describe(&dom)
}

/// Stops and undefines a domain; `false` when there was none.
pub(crate) fn destroy_and_undefine(conn: &Connect, name: &str) -> R<bool> {
    let Some(dom) = absent(conn.lookup_domain_by_name(name), ErrorNumber::NoDomain)? else {
        return Ok(false);
    };
    if dom.is_active()? {
        match dom.destroy() {
            Ok(()) => {}
            // Stopped meanwhile.
            Err(e) if e.code().is(ErrorNumber::OperationInvalid) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match dom.undefine() {
        Ok(()) => Ok(true),
        Err(e) if e.code().is(ErrorNumber::NoDomain) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn pool(conn: &Connect, name: &str) -> R<StoragePool> {
    Ok(conn.lookup_storage_pool_by_name(name)?)
}

/// A volume of a storage pool, with its description.
pub(crate) fn find_volume(
    conn: &Connect,
    pool_name: &str,
    name: &str,
) -> R<Option<VolumeDescription>> {
    let pool = pool(conn, pool_name)?;
    match absent(
        pool.lookup_storage_vol_by_name(name),
        ErrorNumber::NoStorageVolume,
    )? {
        Some(vol) => {
            let xml = vol.xml_desc(0)?;
            Ok(Some(parse_volume(&xml)?))
        }
        None => Ok(None),
    }
}

/// Creates a volume unless one of that name exists.
pub(crate) fn create_volume(
    conn: &Connect,
    pool_name: &str,
    name: &str,
    xml: &str,
) -> R<VolumeDescription> {
    let pool = pool(conn, pool_name)?;
    let vol = match StorageVol::create_xml(&pool, xml, 0) {
        Ok(v) => v,
        Err(e) if exists(&e, ErrorNumber::StorageVolExist) => {
            pool.lookup_storage_vol_by_name(name)?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(parse_volume(&vol.xml_desc(0)?)?)
}

/// Deletes a volume; `false` when there was none.
pub(crate) fn delete_volume(conn: &Connect, pool_name: &str, name: &str) -> R<bool> {
    let pool = pool(conn, pool_name)?;
    let Some(vol) = absent(
        pool.lookup_storage_vol_by_name(name),
        ErrorNumber::NoStorageVolume,
    )?
    else {
        return Ok(false);
    };
    match vol.delete(0) {
        Ok(()) => Ok(true),
        Err(e) if e.code().is(ErrorNumber::NoStorageVolume) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A network's XML.
pub(crate) fn find_network(conn: &Connect, name: &str) -> R<Option<String>> {
    match absent(conn.lookup_network_by_name(name), ErrorNumber::NoNetwork)? {
        Some(net) => Ok(Some(net.xml_desc(0)?)),
        None => Ok(None),
    }
}

/// Defines and starts a network unless one of that name exists (then makes sure it runs).
pub(crate) fn define_network(conn: &Connect, name: &str, xml: &str) -> R<String> {
    let net = match conn.define_network_xml(xml) {
        Ok(n) => n,
        Err(e) if exists(&e, ErrorNumber::NetworkExist) => conn.lookup_network_by_name(name)?,
        Err(e) => return Err(e.into()),
    };
    if !net.is_active()? {
        net.create()?;
    }
    Ok(net.xml_desc(0)?)
}

/// Stops and undefines a network; `false` when there was none.
pub(crate) fn undefine_network(conn: &Connect, name: &str) -> R<bool> {
    let Some(net) = absent(conn.lookup_network_by_name(name), ErrorNumber::NoNetwork)? else {
        return Ok(false);
    };
    if net.is_active()? {
        net.destroy()?;
    }
    net.undefine()?;
    Ok(true)
}

/// Adds (`add == true`) or removes a DHCP range of a network, in its persistent config and, when
/// it runs, live.
pub(crate) fn update_dhcp_range(conn: &Connect, name: &str, range_xml: &str, add: bool) -> R<()> {
    use virt::sys;
    let net = conn.lookup_network_by_name(name)?;
    let mut flags = sys::VIR_NETWORK_UPDATE_AFFECT_CONFIG;
    if net.is_active()? {
        flags |= sys::VIR_NETWORK_UPDATE_AFFECT_LIVE;
    }
    let command = if add {
        sys::VIR_NETWORK_UPDATE_COMMAND_ADD_LAST
    } else {
        sys::VIR_NETWORK_UPDATE_COMMAND_DELETE
    };
    net.update(
        command,
        sys::VIR_NETWORK_SECTION_IP_DHCP_RANGE,
        -1,
        range_xml,
        flags,
    )?;
    Ok(())
}

/// Names of the domains with an interface on a network.
pub(crate) fn domains_on_network(conn: &Connect, network: &str) -> R<Vec<String>> {
    let mut out = Vec::new();
    for dom in conn.list_all_domains(0)? {
        let Ok(found) = describe(&dom) else { continue };
        if found
            .description
            .interfaces
            .iter()
            .any(|i| i.network == network)
        {
            out.push(found.description.name);
        }
    }
    Ok(out)
}
