//! The limit a page is measured against: the same bytes served as a static file by nginx
//! (started on a loopback port with a generated configuration), or, where nginx is missing, by a
//! minimal static server inside this tool — which then says so.

use anyhow::{bail, Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

pub struct StaticServer {
    pub addr: SocketAddr,
    pub kind: &'static str,
    nginx: Option<Nginx>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl StaticServer {
    /// Serve `body` as `content_type` at every path: nginx when installed, the tool otherwise.
    pub async fn start(body: Bytes, content_type: &str) -> Result<StaticServer> {
        match which("nginx") {
            Some(nginx) => start_nginx(&nginx, &body, content_type).await,
            None => start_builtin(body, content_type).await,
        }
    }

    pub async fn stop(mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            nginx.signal_stop();
            nginx.master.wait().await.ok();
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An nginx the tool started. Its workers outlive a master killed with SIGKILL, so it is always
/// stopped the way nginx expects (`-s stop`, which signals the master to take its workers down),
/// also when the tool is interrupted and the server is dropped.
struct Nginx {
    binary: std::path::PathBuf,
    root: std::path::PathBuf,
    master: Child,
}

impl Nginx {
    fn signal_stop(&mut self) {
        let _ = std::process::Command::new(&self.binary)
            .arg("-p")
            .arg(&self.root)
            .arg("-c")
            .arg(self.root.join("nginx.conf"))
            .arg("-e")
            .arg(self.root.join("error.log"))
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if matches!(self.master.try_wait(), Ok(None)) {
            self.signal_stop();
        }
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

async fn start_nginx(
    nginx: &std::path::Path,
    body: &[u8],
    content_type: &str,
) -> Result<StaticServer> {
    let dir = tempfile::Builder::new()
        .prefix("supportal-load-nginx-")
        .tempdir()?;
    let root = dir.path();
    // nginx's workers run as an unprivileged user when started as root: they must read the file.
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755))?;
    std::fs::create_dir_all(root.join("www"))?;
    std::fs::set_permissions(root.join("www"), std::fs::Permissions::from_mode(0o755))?;
    std::fs::write(root.join("www/page"), body)?;
    std::fs::set_permissions(
        root.join("www/page"),
        std::fs::Permissions::from_mode(0o644),
    )?;
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let config = format!(
        "worker_processes auto;\n\
         daemon off;\n\
         pid {root}/nginx.pid;\n\
         error_log {root}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off;\n\
           keepalive_requests 100000000;\n\
           client_body_temp_path {root}/tmp;\n\
           proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;\n\
           server {{\n\
             listen {addr};\n\
             root {root}/www;\n\
             location / {{ default_type \"{content_type}\"; try_files /page =404; }}\n\
           }}\n\
         }}\n",
        root = root.display(),
    );
    std::fs::write(root.join("nginx.conf"), config)?;
    let master = Command::new(nginx)
        .arg("-p")
        .arg(root)
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-e")
        .arg(root.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting nginx")?;
    let nginx = Nginx {
        binary: nginx.to_owned(),
        root: root.to_owned(),
        master,
    };
    wait_until_listening(addr, root).await?;
    Ok(StaticServer {
        addr,
        kind: "nginx (static file)",
        nginx: Some(nginx),
        task: None,
        _dir: Some(dir),
    })
}

async fn wait_until_listening(addr: SocketAddr, root: &std::path::Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
            bail!("nginx did not listen on {addr}: {log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn start_builtin(body: Bytes, content_type: &str) -> Result<StaticServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let content_type = hyper::header::HeaderValue::from_str(content_type)?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (body, content_type) = (body.clone(), content_type.clone());
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let mut response = hyper::Response::new(Full::new(body.clone()));
                    response
                        .headers_mut()
                        .insert(hyper::header::CONTENT_TYPE, content_type.clone());
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(StaticServer {
        addr,
        kind: "the tool's own static server (nginx is not installed)",
        nginx: None,
        task: Some(task),
        _dir: None,
    })
}
