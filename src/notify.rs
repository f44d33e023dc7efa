//! systemd readiness (`Type=notify`): a datagram to `$NOTIFY_SOCKET`. Without systemd the
//! variable is unset and this does nothing.

#[cfg(target_os = "linux")]
pub fn systemd(state: &str) {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(std::path::Path::new(&path)),
    };
    if let Ok(addr) = addr {
        if let Err(e) = sock.send_to_addr(state.as_bytes(), &addr) {
            tracing::warn!(error = %e, "could not notify systemd");
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn systemd(_state: &str) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn readiness_reaches_the_notify_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        // The variable is process-wide; this is the only test that sets it.
        unsafe { std::env::set_var("NOTIFY_SOCKET", &path) };
        super::systemd("READY=1");
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
        let mut buf = [0u8; 32];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }
}
