//! Open sockets per client address, capped (`security.sockets_per_ip`): one address cannot hold
//! the server's file descriptors and memory with idle sockets. Generous by default, since an
//! office behind one NAT shares an address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

pub struct SocketsPerAddress {
    cap: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open socket of an address; dropping it gives the place back.
pub struct Held {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl SocketsPerAddress {
    pub fn new(cap: usize) -> Self {
        SocketsPerAddress {
            cap,
            open: Arc::default(),
        }
    }

    /// A place for one more socket of `ip`, or None when it holds its cap already.
    pub fn hold(&self, ip: IpAddr) -> Option<Held> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Held {
            ip,
            open: self.open.clone(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_cap_and_gets_places_back() {
        let sockets = SocketsPerAddress::new(2);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = sockets.hold(a).unwrap();
        let _second = sockets.hold(a).unwrap();
        assert!(sockets.hold(a).is_none(), "a third from the same address");
        assert!(sockets.hold(b).is_some(), "another address is not affected");
        drop(first);
        assert!(
            sockets.hold(a).is_some(),
            "a closed socket gives its place back"
        );
    }
}
