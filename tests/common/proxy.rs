//! A loopback TCP proxy in front of the test PostgreSQL server that can go silent: it stops
//! forwarding in both directions but keeps every socket open, as a stalled network path (a
//! dead NAT entry, a frozen load balancer, a cable pulled behind a router) does. Neither side
//! sees a close or a reset, so only a client-side time limit ends a wait.
//!
//! [`SilentProxy::forwarding`] forwards until the test calls [`SilentProxy::go_silent`];
//! [`SilentProxy::silent_after_handshake`] lets each connection through its startup handshake
//! (up to the server's first `ReadyForQuery`) and then goes silent on that connection, for
//! programs the test cannot pause at the right moment (the CLI).
//!
//! The proxy runs on a runtime of its own (one worker thread), so it serves synchronous tests
//! and keeps serving while the test's own runtime is busy; dropping it closes every socket.

use std::future::pending;
use std::net::{SocketAddr, TcpListener as StdListener};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Where a connection stops being forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// When the test calls [`SilentProxy::go_silent`].
    OnRequest,
    /// After the server's first `ReadyForQuery` on that connection (or on request).
    AfterHandshake,
}

/// A TCP proxy on `127.0.0.1` to one server address. See the module docs.
#[derive(Debug)]
pub struct SilentProxy {
    port: u16,
    silent: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl SilentProxy {
    /// A proxy that forwards everything until [`go_silent`](Self::go_silent).
    pub fn forwarding(target: SocketAddr) -> SilentProxy {
        SilentProxy::start(target, Mode::OnRequest)
    }

    /// A proxy that lets every connection complete its startup handshake (the server's
    /// authentication messages up to and including its first `ReadyForQuery`) and then forwards
    /// nothing more on it. Expects a server without TLS (the test clusters have none): the
    /// one-byte answer to an `SSLRequest` must be `N`.
    pub fn silent_after_handshake(target: SocketAddr) -> SilentProxy {
        SilentProxy::start(target, Mode::AfterHandshake)
    }

    fn start(target: SocketAddr, mode: Mode) -> SilentProxy {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind the proxy's port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("the proxy's address").port();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("silent-proxy")
            .enable_io()
            .build()
            .expect("the proxy's runtime");
        let (silent, _) = watch::channel(false);
        let global = silent.subscribe();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).expect("a tokio listener");
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(client, target, mode, global.clone()));
            }
        });
        SilentProxy {
            port,
            silent,
            runtime: Some(runtime),
        }
    }

    /// The port the proxy listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops forwarding on every connection, open or future; sockets stay open.
    pub fn go_silent(&self) {
        self.silent.send_replace(true);
    }

    /// `url` (a `postgresql://` URL with one TCP host) with its host and port replaced by the
    /// proxy's.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let userinfo = authority.rfind('@').map_or("", |at| &authority[..=at]);
        format!("{scheme}://{userinfo}127.0.0.1:{}{tail}", self.port)
    }
}

impl Drop for SilentProxy {
    fn drop(&mut self) {
        // Ends every task, which closes every socket; allowed inside a test's own runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The TCP address of the server behind a test URL, or `None` (after saying why) when the URL
/// names a Unix socket or several hosts, which the proxy cannot stand in front of.
pub fn tcp_target(url: &str) -> Option<SocketAddr> {
    use std::net::ToSocketAddrs;
    let config: tokio_postgres::Config = url.parse().expect("a test URL");
    let (hosts, ports) = (config.get_hosts(), config.get_ports());
    let (Some(tokio_postgres::config::Host::Tcp(host)), 1) = (hosts.first(), hosts.len()) else {
        eprintln!("skipping: the test server is not reached over one TCP host");
        return None;
    };
    let port = ports.first().copied().unwrap_or(5432);
    (host.as_str(), port)
        .to_socket_addrs()
        .expect("resolve the test server")
        .next()
}

/// One client connection: connects to the server and forwards both ways until silenced.
async fn serve(client: TcpStream, target: SocketAddr, mode: Mode, global: watch::Receiver<bool>) {
    // This connection's own silence: set by the global switch or, in `AfterHandshake` mode, by
    // the server's first ReadyForQuery.
    let (silent, _) = watch::channel(false);
    let follow = {
        let silent = silent.clone();
        let mut global = global.clone();
        async move {
            if global.wait_for(|s| *s).await.is_ok() {
                silent.send_replace(true);
            }
            pending::<()>().await;
        }
    };
    if *global.borrow() {
        // Accepted but never connected onward: a connect attempt that never completes.
        let _client = client;
        return pending().await;
    }
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let handshake = (mode == Mode::AfterHandshake).then(Handshake::default);
    tokio::select! {
        () = follow => {}
        () = async {
            tokio::join!(
                pump(client_read, server_write, silent.subscribe(), None, &silent),
                pump(server_read, client_write, silent.subscribe(), handshake, &silent),
            );
        } => {}
    }
}

/// Copies `from` to `to` until EOF or until silenced; once silenced, holds both halves open
/// forever (until the proxy's runtime shuts down). With `handshake`, watches the server's
/// messages and silences the connection after its first `ReadyForQuery`.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut silent_rx: watch::Receiver<bool>,
    mut handshake: Option<Handshake>,
    silent: &watch::Sender<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if *silent_rx.borrow() {
            break;
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                // EOF or an error: dropping the write half passes the close on.
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = silent_rx.wait_for(|s| *s) => break,
        };
        let (forward, done) = match &mut handshake {
            Some(h) => match h.feed(&buf[..n]) {
                Some(end) => (end, true),
                None => (n, false),
            },
            None => (n, false),
        };
        if *silent_rx.borrow() {
            break;
        }
        if to.write_all(&buf[..forward]).await.is_err() {
            return;
        }
        if done {
            silent.send_replace(true);
            break;
        }
    }
    let _open = (from, to);
    pending::<()>().await;
}

/// Follows the server's side of a startup handshake: an optional one-byte answer to
/// `SSLRequest` (`N`), then messages (type byte, big-endian length that counts itself) up to
/// the first `ReadyForQuery` (`Z`).
#[derive(Default)]
struct Handshake {
    /// Bytes of the stream seen so far.
    seen: usize,
    /// Where the next message starts.
    next: usize,
    /// The current message's type and length bytes, as far as read.
    header: Vec<u8>,
    /// Where the first `ReadyForQuery` ends, once its header has been read.
    ready_end: Option<usize>,
}

impl Handshake {
    /// Feeds the next chunk of the server's stream; returns how many bytes of it end with the
    /// first `ReadyForQuery`, or `None` while that has not been seen whole.
    fn feed(&mut self, chunk: &[u8]) -> Option<usize> {
        let start = self.seen;
        self.seen += chunk.len();
        for (i, &byte) in chunk.iter().enumerate() {
            let at = start + i;
            if self.ready_end.is_some() {
                break;
            }
            if at == 0 && byte == b'N' {
                self.next = 1;
                continue;
            }
            if at < self.next {
                continue;
            }
            self.header.push(byte);
            if let [kind, a, b, c, d] = self.header[..] {
                let end = self.next + 1 + u32::from_be_bytes([a, b, c, d]) as usize;
                if kind == b'Z' {
                    self.ready_end = Some(end);
                }
                self.next = end;
                self.header.clear();
            }
        }
        match self.ready_end {
            Some(end) if end <= self.seen => Some(end - start),
            _ => None,
        }
    }
}
