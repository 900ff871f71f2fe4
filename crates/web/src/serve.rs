//! The accept loop: HTTP/1.1 with upgrades (WebSockets), like `axum::serve`, plus what it lacks:
//! a deadline for a request's headers (slow-header clients are dropped) and a cap on open
//! connections. At the cap the loop stops accepting: new clients wait in the kernel's backlog
//! instead of taking memory and descriptors. A connection counts until its socket closes, an
//! upgraded WebSocket included.
//!
//! It also stops without resetting a request a proxy has sent: new connections are held back
//! before the port closes, and open ones are served a moment longer (see `serve`).

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once (WebSockets included).
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
}

/// After the shutdown signal, how long the backlog must stay empty before the listener closes.
const BACKLOG_QUIET: Duration = Duration::from_millis(50);
/// How long open connections are still served after the listener closed, before the shutdown
/// closes the idle ones (each answer from then on closes its own connection).
///
/// A proxy that keeps idle connections to the node sends a request on one whenever it likes.
/// Closing an idle one while a request is on its way resets it, and nginx answers a POST
/// that met a reset with 502: it does not send a non-idempotent request twice. Served for a
/// while instead, the proxy's idle connections are used up one answer at a time; its next new
/// connection is refused, so it counts the node as down and sends nothing more there.
const LEAVING_LINGER: Duration = Duration::from_secs(1);
/// And the longest the backlog is served after the signal.
const BACKLOG_DRAIN_AT_MOST: Duration = Duration::from_secs(1);

/// Serve `router` on `listener` until `shutdown` resolves, then let open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let leaving = Arc::new(AtomicBool::new(false));
    let mut shutdown = pin!(shutdown);
    let start = |(stream, remote, permit): (TcpStream, SocketAddr, OwnedSemaphorePermit)| {
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted {
            stream,
            _permit: permit,
        });
        tokio::spawn(connection(
            io,
            remote,
            router.clone(),
            limits,
            stop_rx.clone(),
            leaving.clone(),
        ));
    };
    loop {
        tokio::select! {
            accepted = accept(&listener, &permits) => start(accepted),
            () = &mut shutdown => break,
        };
    }
    // No new connection from here on, but none reset either: closing a listener resets the
    // connections waiting in its backlog, each perhaps carrying a proxy's request that nginx
    // then answers with 502 (a POST is never sent twice). So the kernel first stops completing
    // new handshakes; the connections it completed already are served, until none has come for
    // a moment (at most a second); then the listener closes. A client whose first packet was
    // dropped sends it again a second later, finds the port closed and goes elsewhere.
    hold_back_new_connections(&listener);
    let until = tokio::time::Instant::now() + BACKLOG_DRAIN_AT_MOST;
    while tokio::time::Instant::now() < until {
        match tokio::time::timeout(BACKLOG_QUIET, accept(&listener, &permits)).await {
            Ok(accepted) => start(accepted),
            Err(_quiet) => break,
        }
    }
    drop(listener);
    leaving.store(true, Ordering::Relaxed);
    // Serve what comes on open connections a while longer (`LEAVING_LINGER`), unless they all
    // closed already.
    let every_permit = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let all_closed = permits.acquire_many(every_permit);
    let _ = tokio::time::timeout(LEAVING_LINGER, all_closed).await;
    let _ = stop_tx.send(true);
    // Every connection task holds a receiver: all are done when the channel has none left.
    drop(stop_rx);
    stop_tx.closed().await;
}

/// Have the kernel drop new connections' first packet (SYN) to `listener`, with a socket
/// filter (classic BPF: the TCP flags byte is at offset 13 of the header the filter sees).
/// Handshakes under way complete, and their connections wait in the backlog to be accepted.
/// Best effort: where it cannot be attached, the listener only closes a little more abruptly.
#[cfg(target_os = "linux")]
fn hold_back_new_connections(listener: &TcpListener) {
    use socket2::SockFilter;
    const LOAD_BYTE: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
    const JUMP_IF_SET: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K: how many bytes to keep, 0 drops
    const TCP_FLAGS: u32 = 13;
    const SYN: u32 = 0x02;
    let drop_syn = [
        SockFilter::new(LOAD_BYTE, 0, 0, TCP_FLAGS),
        SockFilter::new(JUMP_IF_SET, 0, 1, SYN),
        SockFilter::new(RETURN, 0, 0, 0),
        SockFilter::new(RETURN, 0, 0, u32::MAX),
    ];
    if let Err(err) = socket2::SockRef::from(listener).attach_filter(&drop_syn) {
        tracing::warn!(error = %err, "could not hold back new connections while leaving");
    }
}

#[cfg(not(target_os = "linux"))]
fn hold_back_new_connections(_listener: &TcpListener) {}

/// The next connection, once a permit is free. Accept errors (out of descriptors, a client that
/// reset before we got to it) are logged and retried after a pause, never fatal.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    let permit = match permits.clone().acquire_owned().await {
        Ok(permit) => permit,
        Err(_closed) => unreachable!("the semaphore is never closed"),
    };
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => return (stream, remote, permit),
            Err(err) => {
                tracing::warn!(error = %err, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    io: TokioIo<Counted>,
    remote: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
    leaving: Arc<AtomicBool>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        let answer = router.clone().oneshot(request);
        let leaving = leaving.clone();
        async move {
            let mut response = answer.await?;
            // The node is leaving: this connection is not to be used again (an upgrade keeps
            // its own header, and its socket is told to reconnect by the drain).
            let upgrade = response.status() == hyper::StatusCode::SWITCHING_PROTOCOLS;
            if leaving.load(Ordering::Relaxed) && !upgrade {
                response.headers_mut().insert(
                    hyper::header::CONNECTION,
                    hyper::header::HeaderValue::from_static("close"),
                );
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stopping| *stopping) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// A client's socket holding its place under the connection cap until it closes.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Send a GET on `stream` and read its answer whole (the body is "ok"); None when the
    /// connection was closed or reset instead.
    async fn get(stream: &mut TcpStream) -> Option<String> {
        let request = b"GET / HTTP/1.1\r\nHost: node\r\n\r\n";
        stream.write_all(request).await.ok()?;
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        while !answer.ends_with(b"\r\n\r\nok") {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        Some(String::from_utf8_lossy(&answer).to_lowercase())
    }

    /// A router answering "ok", served on a fresh port until the returned sender is used.
    async fn serving() -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let limits = ConnectionLimits {
            max_connections: 16,
            header_read_timeout: Duration::from_secs(5),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, limits, async {
            let _ = stopped.await;
        }));
        (addr, stop, server)
    }

    /// Clients that open a new connection per request, as nginx does without `keepalive`, keep
    /// coming while the node stops: each request either gets its answer or its connection is
    /// refused (which a proxy retries elsewhere); none is reset after it was sent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopping_node_resets_no_request_on_a_new_connection() {
        let (addr, stop, server) = serving().await;
        let mut clients = Vec::new();
        for _ in 0..12 {
            clients.push(tokio::spawn(async move {
                let mut answered = 0;
                loop {
                    let connecting = TcpStream::connect(addr);
                    let Ok(Ok(mut stream)) =
                        tokio::time::timeout(Duration::from_secs(5), connecting).await
                    else {
                        return Ok(answered);
                    };
                    match get(&mut stream).await {
                        Some(_) => answered += 1,
                        None => return Err(format!("reset after {answered} answers")),
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.send(()).unwrap();
        for client in clients {
            let answered = client.await.unwrap().expect("no request reset");
            assert!(answered > 0, "answered before the stop");
        }
        let stopped_in = tokio::time::timeout(Duration::from_secs(3), server).await;
        assert!(stopped_in.is_ok(), "the server stopped");
    }

    /// A proxy's kept-alive connection that carries a request a moment after the node was told
    /// to stop gets its answer (and is told to close), instead of being closed under it.
    #[tokio::test]
    async fn a_request_on_a_kept_connection_during_shutdown_is_answered_and_closes_it() {
        let (addr, stop, server) = serving().await;
        let mut kept = TcpStream::connect(addr).await.unwrap();
        let before = get(&mut kept).await.expect("answered");
        assert!(
            !before.contains("connection: close"),
            "kept alive: {before}"
        );

        stop.send(()).unwrap();
        // Past the backlog's quiet time: the port is closed, the kept connection still served.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let during = get(&mut kept).await.expect("answered while leaving");
        assert!(during.starts_with("http/1.1 200"), "{during}");
        assert!(during.contains("connection: close"), "{during}");
        let mut rest = [0u8; 16];
        assert_eq!(kept.read(&mut rest).await.unwrap(), 0, "then closed");

        let stopped_in = tokio::time::timeout(Duration::from_secs(3), server).await;
        assert!(
            stopped_in.is_ok(),
            "the server stops once its connections closed"
        );
    }
}
