//! The connection to one host: a libvirt connection opened on demand and kept, every call run
//! on tokio's blocking pool under a timeout, and failures sorted into "the host is gone"
//! (connection lost, refused, timed out) and "the call failed".

pub(crate) mod ops;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use virt::connect::Connect;
use virt::error::ErrorNumber;

use crate::error::{Error, Result};
use crate::uri::{HostUri, Transport};

/// One host's connection.
pub(crate) struct HostLink {
    name: String,
    uri: HostUri,
    conn: Mutex<Option<Arc<Connect>>>,
    timeout: Duration,
}

impl HostLink {
    pub(crate) fn new(name: String, uri: HostUri, timeout: Duration) -> Arc<HostLink> {
        Arc::new(HostLink {
            name,
            uri,
            conn: Mutex::new(None),
            timeout,
        })
    }

    /// Runs `f` with the host's connection on the blocking pool. A connection-level failure
    /// drops the connection (the next call reopens it) and comes back as
    /// [`Error::HostUnavailable`]; a call still running after the timeout comes back as
    /// [`Error::Timeout`] (the blocking thread finishes on its own).
    pub(crate) async fn call<T, F>(self: &Arc<Self>, operation: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> std::result::Result<T, ops::OpError> + Send + 'static,
    {
        let link = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let conn = link.connection()?;
            match f(&conn) {
                Ok(v) => Ok(v),
                Err(ops::OpError::Virt(e)) => Err(link.classify(&conn, e)),
                Err(ops::OpError::Adapter(e)) => Err(e),
            }
        });
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(Error::Worker(join.to_string())),
            Err(_) => {
                self.drop_connection(None);
                Err(Error::Timeout {
                    host: self.name.clone(),
                    operation,
                })
            }
        }
    }

    fn connection(&self) -> Result<Arc<Connect>> {
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            return Ok(Arc::clone(c));
        }
        let conn = Connect::open(Some(self.uri.as_str())).map_err(|e| Error::HostUnavailable {
            host: self.name.clone(),
            reason: e.message().to_owned(),
        })?;
        if self.uri.transport() != Transport::Local {
            // Detect a dead peer within about 15 s instead of TCP's minutes; local drivers have
            // no keepalive, which is fine.
            let _ = conn.set_keep_alive(5, 3);
        }
        let conn = Arc::new(conn);
        *slot = Some(Arc::clone(&conn));
        Ok(conn)
    }

    fn drop_connection(&self, only: Option<&Arc<Connect>>) {
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let matches = match (slot.as_ref(), only) {
            (Some(current), Some(used)) => Arc::ptr_eq(current, used),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if matches {
            *slot = None;
        }
    }

    fn classify(&self, conn: &Arc<Connect>, e: virt::error::Error) -> Error {
        let code = e.code();
        let connection_level = code.is_any(vec![
            ErrorNumber::SystemError,
            ErrorNumber::Rpc,
            ErrorNumber::NoConnect,
            ErrorNumber::InvalidConn,
            ErrorNumber::AuthFailed,
            ErrorNumber::AuthCancelled,
        ]) || !conn.is_alive().unwrap_or(false);
        if connection_level {
            self.drop_connection(Some(conn));
            Error::HostUnavailable {
                host: self.name.clone(),
                reason: e.message().to_owned(),
            }
        } else {
            Error::Libvirt {
                host: self.name.clone(),
                code: code.to_raw() as i32,
                message: e.message().to_owned(),
            }
        }
    }
}
