//! The limit a page is measured against: the same bytes served as a static file by nginx
//! (started on a loopback port with a generated configuration), or, where nginx is missing, by a
//! minimal static server inside this tool — which then says so.

use crate::nginx::Nginx;
use anyhow::Result;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use tokio::net::TcpListener;

pub struct StaticServer {
    pub addr: SocketAddr,
    pub kind: &'static str,
    nginx: Option<Nginx>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl StaticServer {
    /// Serve `body` as `content_type` at every path: nginx when installed, the tool otherwise.
    pub async fn start(body: Bytes, content_type: &str) -> Result<StaticServer> {
        match crate::nginx::installed() {
            Some(nginx) => start_nginx(&nginx, &body, content_type).await,
            None => start_builtin(body, content_type).await,
        }
    }

    pub async fn stop(mut self) {
        if let Some(nginx) = self.nginx.take() {
            nginx.stop().await;
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn start_nginx(
    binary: &std::path::Path,
    body: &[u8],
    content_type: &str,
) -> Result<StaticServer> {
    let nginx = Nginx::start(binary, |root, addr| {
        let www = root.join("www");
        std::fs::create_dir_all(&www)?;
        // nginx's workers run as an unprivileged user when started as root: they must read it.
        std::fs::set_permissions(&www, std::fs::Permissions::from_mode(0o755))?;
        std::fs::write(www.join("page"), body)?;
        std::fs::set_permissions(www.join("page"), std::fs::Permissions::from_mode(0o644))?;
        Ok(format!(
            "server {{\n\
               listen {addr};\n\
               root {www};\n\
               location / {{ default_type \"{content_type}\"; try_files /page =404; }}\n\
             }}",
            www = www.display()
        ))
    })
    .await?;
    Ok(StaticServer {
        addr: nginx.addr,
        kind: "nginx (static file)",
        nginx: Some(nginx),
        task: None,
    })
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
    })
}
