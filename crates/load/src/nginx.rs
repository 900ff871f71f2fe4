//! nginx started by the tool on a loopback port with a generated configuration: the static
//! baseline of the page scenario, and the load balancer in front of several nodes.

use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A running nginx. Its workers outlive a master killed with SIGKILL, so it is always stopped the
/// way nginx expects (`-s stop`, which signals the master to take its workers down), also when
/// the tool is interrupted and the value is dropped.
pub struct Nginx {
    pub addr: SocketAddr,
    binary: PathBuf,
    master: Child,
    dir: tempfile::TempDir,
}

/// nginx's path, when installed (Debian puts it in /usr/sbin, which a user's PATH may lack).
pub fn installed() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

impl Nginx {
    /// Start nginx listening on a free loopback port. `http` gives the inside of the `http`
    /// block for the directory nginx runs in and the address it listens on.
    pub async fn start(
        binary: &Path,
        http: impl FnOnce(&Path, SocketAddr) -> Result<String>,
    ) -> Result<Nginx> {
        let dir = tempfile::Builder::new()
            .prefix("supportal-load-nginx-")
            .tempdir()?;
        let root = dir.path();
        // nginx's workers run as an unprivileged user when started as root: they must read it.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755))?;
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let inside = http(root, addr)?;
        let config = format!(
            "worker_processes auto;\n\
             daemon off;\n\
             pid {root}/nginx.pid;\n\
             error_log {root}/error.log warn;\n\
             events {{ worker_connections 8192; }}\n\
             http {{\n\
               access_log off;\n\
               keepalive_requests 100000000;\n\
               client_body_temp_path {root}/tmp;\n\
               proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;\n\
             {inside}\n\
             }}\n",
            root = root.display(),
        );
        std::fs::write(root.join("nginx.conf"), config)?;
        let master = Command::new(binary)
            .args(Self::location_args(root))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let nginx = Nginx {
            addr,
            binary: binary.to_owned(),
            master,
            dir,
        };
        nginx.wait_until_listening().await?;
        Ok(nginx)
    }

    fn location_args(root: &Path) -> Vec<std::ffi::OsString> {
        vec![
            "-p".into(),
            root.into(),
            "-c".into(),
            root.join("nginx.conf").into(),
            "-e".into(),
            root.join("error.log").into(),
        ]
    }

    async fn wait_until_listening(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(self.addr).await.is_err() {
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                bail!("nginx did not listen on {}: {log}", self.addr);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    fn signal_stop(&mut self) {
        let _ = std::process::Command::new(&self.binary)
            .args(Self::location_args(self.dir.path()))
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    pub async fn stop(mut self) {
        self.signal_stop();
        self.master.wait().await.ok();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if matches!(self.master.try_wait(), Ok(None)) {
            self.signal_stop();
        }
    }
}
