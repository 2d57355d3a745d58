//! Shared by the three peer projects (`build = "../build.rs"` in the sub-projects): exports the
//! locked versions of the peer libraries as `PEER_VERSION_<NAME>` (dashes as underscores) so the
//! JSON line's `impl` field names the exact version measured.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let lock_path = std::path::Path::new(&dir).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    let wanted = [
        "rusqlite",
        "libsqlite3-sys",
        "deadpool-sqlite",
        "sqlx",
        "tokio-postgres",
        "deadpool-postgres",
    ];
    for name in wanted {
        let mut version = "unknown".to_string();
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line.trim() == format!("name = \"{name}\"") {
                if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = ")) {
                    version = v.trim_matches('"').to_string();
                    break;
                }
            }
        }
        let key = name.replace('-', "_").to_uppercase();
        println!("cargo:rustc-env=PEER_VERSION_{key}={version}");
    }
}
