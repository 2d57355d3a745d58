//! `LISTEN`/`NOTIFY`: [`PostgresEngine::listen`] and its [`Listener`].
//!
//! Pooled connections drop notifications (a pooled connection never `LISTEN`s for long, and
//! its messages are not read by anyone). A listener has a connection of its own, opened like
//! the pool's (TLS, `application_name`, the `before_connect` and `on_connect` hooks), and a task
//! that reads it.
//!
//! When that connection is lost (a server restart, a network failure, the backend killed), the
//! task reconnects with a bounded backoff (100 ms doubling to 5 s), `LISTEN`s again, and then
//! yields [`ListenEvent::Reconnected`] before any notification from the new connection.
//! **Notifications sent while no connection was listening are lost**: PostgreSQL queues
//! notifications only for sessions that are listening when they commit. Treat `Reconnected` as
//! "re-read whatever you were watching" (re-reading after it, not before, closes the gap).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, Notification};

use super::engine::PostgresEngine;
use super::pool::{ClosedGuard, Messages, PgConnector};
use crate::error::{Error, Result, WaitingFor};

/// Notifications buffered between the connection and the consumer; a consumer that falls this
/// far behind makes the listener stop reading its socket until it catches up (the server then
/// queues them, up to its 8 GB notification queue).
const BUFFER: usize = 1024;
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// What a [`Listener`] yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum ListenEvent {
    /// A notification: `channel()`, `payload()` and the sender's `process_id()`.
    Notification(Notification),
    /// The connection was lost and a new one is listening again. Notifications sent while
    /// none was listening are lost: re-read what you were watching.
    Reconnected {
        /// Connection attempts it took (1 = the first one worked).
        attempts: u32,
        /// From noticing the loss to listening again.
        after: Duration,
    },
}

/// A stream of [`ListenEvent`]s from [`PostgresEngine::listen`]. Dropping it closes its
/// connection and stops its task. It ends (`None`) only when its engine has been disposed.
#[derive(Debug)]
pub struct Listener {
    events: mpsc::Receiver<ListenEvent>,
    task: JoinHandle<()>,
}

impl Listener {
    /// The next event; `None` once the engine is disposed.
    pub async fn recv(&mut self) -> Option<ListenEvent> {
        self.events.recv().await
    }
}

impl Stream for Listener {
    type Item = ListenEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ListenEvent>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `LISTEN "a"; LISTEN "b"…`: channel names quoted, so they are taken exactly as given (as
/// `pg_notify('name', …)` takes them).
fn listen_sql(channels: &[String]) -> Result<String> {
    let mut sql = String::new();
    for channel in channels {
        if channel.is_empty() || channel.contains('\0') || channel.len() > 63 {
            return Err(Error::Unsupported {
                key: "listen".into(),
                reason: format!(
                    "channel {channel:?}: a name of 1 to 63 bytes without NUL characters"
                ),
            });
        }
        sql.push_str("LISTEN \"");
        sql.push_str(&channel.replace('"', "\"\""));
        sql.push_str("\";");
    }
    Ok(sql)
}

/// One listening connection: its client (dropping it closes the connection) and the task that
/// reads its messages.
struct Connected {
    _client: Client,
    reader: JoinHandle<()>,
}

/// Opens a connection and `LISTEN`s on it; notifications go to `events` once `open` fires
/// (those arriving earlier wait in the reader, in order).
async fn connect(
    connector: &PgConnector,
    pg_config: &tokio_postgres::Config,
    sql: &str,
    limits: (Duration, Duration),
    events: mpsc::Sender<ListenEvent>,
    open: oneshot::Receiver<()>,
) -> Result<Connected> {
    let (connect, answer) = limits;
    let (client, messages, guard) =
        tokio::time::timeout(connect, connector.open_listener(pg_config))
            .await
            .map_err(|_| Error::Timeout {
                waiting_for: WaitingFor::NewConnection,
                after: connect,
            })??;
    let reader = tokio::spawn(read(messages, guard, events, open));
    let setup = async {
        connector.setup(&client).await?;
        client.batch_execute(sql).await.map_err(Error::from)
    };
    match tokio::time::timeout(answer, setup).await {
        Ok(Ok(())) => Ok(Connected {
            _client: client,
            reader,
        }),
        Ok(Err(e)) => {
            reader.abort();
            Err(e)
        }
        Err(_) => {
            reader.abort();
            Err(Error::Timeout {
                waiting_for: WaitingFor::ServerAnswer,
                after: answer,
            })
        }
    }
}

/// Reads one connection's messages until it ends, forwarding notifications once `open` fires.
async fn read(
    mut messages: Messages,
    _guard: ClosedGuard,
    events: mpsc::Sender<ListenEvent>,
    mut open: oneshot::Receiver<()>,
) {
    let mut opened = false;
    let mut held = Vec::new();
    loop {
        tokio::select! {
            biased;
            gate = &mut open, if !opened => {
                opened = true;
                if gate.is_err() {
                    return;
                }
                for n in held.drain(..) {
                    if events.send(ListenEvent::Notification(n)).await.is_err() {
                        return;
                    }
                }
            }
            message = messages.next() => match message {
                Some(Ok(AsyncMessage::Notification(n))) if opened => {
                    if events.send(ListenEvent::Notification(n)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(AsyncMessage::Notification(n))) => held.push(n),
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::debug!(target: "dbconfig", error = %e, "listener connection lost");
                    return;
                }
                None => return,
            },
        }
    }
}

impl PostgresEngine {
    /// Listens on `channels` on a connection of its own (see the [module docs](self)): the
    /// returned [`Listener`] yields every notification sent to them, in order, and
    /// [`ListenEvent::Reconnected`] after a lost connection was replaced (notifications sent
    /// meanwhile are lost). Channel names are taken exactly as given (quoted), as
    /// `pg_notify('name', …)` takes them; `NOTIFY name` folds an unquoted name to lower case.
    ///
    /// # Errors
    /// The first connection cannot be opened within `connection_timeout`, or `LISTEN` fails;
    /// a channel name that is empty, longer than 63 bytes or holds a NUL.
    pub async fn listen<I, S>(&self, channels: I) -> Result<Listener>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let channels: Vec<String> = channels.into_iter().map(Into::into).collect();
        let sql = listen_sql(&channels)?;
        let limits = (self.inner.limits.connect, self.inner.limits.answer);
        let manager = self.inner.core.pool.manager();
        let (connector, pg_config) = (Arc::clone(&manager.connector), manager.pg_config.clone());
        let (events, receiver) = mpsc::channel(BUFFER);
        let (open, gate) = oneshot::channel();
        let first = connect(&connector, &pg_config, &sql, limits, events.clone(), gate).await?;
        let _ = open.send(());
        let engine = self.clone();
        let task = tokio::spawn(async move {
            let mut connected = first;
            loop {
                // Until the connection is lost (or the consumer has gone).
                let _ = (&mut connected.reader).await;
                drop(connected);
                if events.is_closed() {
                    return;
                }
                let lost = Instant::now();
                let mut pause = FIRST_PAUSE;
                let mut attempts = 0;
                connected = loop {
                    if engine.is_disposed() || events.is_closed() {
                        return;
                    }
                    attempts += 1;
                    let (open, gate) = oneshot::channel();
                    match connect(&connector, &pg_config, &sql, limits, events.clone(), gate).await
                    {
                        Ok(c) => {
                            let event = ListenEvent::Reconnected {
                                attempts,
                                after: lost.elapsed(),
                            };
                            if events.send(event).await.is_err() {
                                return;
                            }
                            let _ = open.send(());
                            break c;
                        }
                        Err(e) => {
                            tracing::warn!(target: "dbconfig", error = %e, attempts, "listener: reconnect failed");
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(LONGEST_PAUSE);
                        }
                    }
                };
                tracing::info!(target: "dbconfig", attempts, "listener: listening again; notifications sent meanwhile are lost");
            }
        });
        Ok(Listener {
            events: receiver,
            task,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_quoted_exactly() {
        assert_eq!(
            listen_sql(&["jobs".into(), "Odd \"name\"".into()]).unwrap(),
            "LISTEN \"jobs\";LISTEN \"Odd \"\"name\"\"\";"
        );
        for bad in ["", "a\0b", &"x".repeat(64)] {
            assert!(listen_sql(&[bad.to_owned()]).is_err(), "{bad:?}");
        }
    }
}
