//! A throwaway PostgreSQL cluster for the benchmark scripts, started by the same launcher the
//! tests use (`tests/common/pg.rs`): one place knows how to find the binaries, run them as the
//! `postgres` user when we are root, pick a free port, and clean up after a crash.
//!
//! ```text
//! cargo run --release --example pg_cluster -- [postgresql.conf line]...
//! ```
//!
//! Prints the cluster's URL (database `postgres`) on stdout, then keeps the server running until
//! its stdin closes; then it stops the server and removes its directory. If this process is
//! killed instead, the launcher's watchdog does the same. `benches/pg-cluster.sh` runs it as a
//! coprocess. Each argument is a `postgresql.conf` line applied after the test defaults, e.g.
//! `fsync=on` for benchmark figures that include durable commits. With `--standby` first, it
//! also starts a streaming standby of the cluster (`pg_basebackup -R`) and prints its URL on a
//! second line.

#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

use std::io::{Read, Write};

fn main() {
    let mut conf: Vec<String> = std::env::args().skip(1).collect();
    let standby = conf.first().is_some_and(|a| a == "--standby");
    if standby {
        conf.remove(0);
    }
    let opts = pg::ClusterOptions {
        conf,
        ..pg::ClusterOptions::default()
    };
    let cluster = match pg::PgCluster::start(opts) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("pg_cluster: could not start PostgreSQL: {e}");
            std::process::exit(1);
        }
    };
    let standby = standby.then(|| match pg::PgCluster::start_standby(&cluster) {
        Ok(standby) => standby,
        Err(e) => {
            eprintln!("pg_cluster: could not start the standby: {e}");
            std::process::exit(1);
        }
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", cluster.url("postgres")).expect("stdout");
    if let Some(standby) = &standby {
        writeln!(stdout, "{}", standby.url("postgres")).expect("stdout");
    }
    stdout.flush().expect("stdout");
    drop(stdout);
    // Until the script closes our stdin (or exits): the data read is ignored.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(standby);
    drop(cluster);
}
