//! Arbitrary maps of environment variables into `Settings::from_env_map`: never a panic; an
//! error names one of the variables given; a success validates.
#![no_main]

use arbitrary::Arbitrary;
use dbconfig::settings::{ENV_VARS, Settings};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u16),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Text(String),
    Known(u8),
}

const VALUES: &[&str] = &[
    "0", "1", "-1", "true", "off", "2.5", "1e9", "nan", "inf", "-0", "18446744073709551616",
    "none", "", " 5 ", "wal", "FULL", "temp_store=memory;mmap_size=1", "sqlite://",
    "postgresql://u:p@h/db", "mysql://x", "a=b=c", ";;",
];

fuzz_target!(|vars: Vec<(Name, Value)>| {
    let names: Vec<&str> = ENV_VARS.iter().flat_map(|v| v.names.iter().copied()).collect();
    let map: Vec<(String, String)> = vars
        .iter()
        .map(|(name, value)| {
            let name = match name {
                Name::Known(i) => names[*i as usize % names.len()].to_owned(),
                Name::Other(s) => s.clone(),
            };
            let value = match value {
                Value::Text(t) => t.clone(),
                Value::Known(i) => VALUES[*i as usize % VALUES.len()].to_owned(),
            };
            (name, value)
        })
        .collect();
    match Settings::from_env_map(map.clone()) {
        Ok(settings) => settings.validate().expect("from_env_map validated"),
        Err(e) => {
            let key = e.key().to_owned();
            // Settings-level conflicts name the field (tls.cert_file…); value errors the variable.
            let named = map.iter().any(|(n, _)| *n == key)
                || ENV_VARS.iter().any(|v| v.field == key);
            assert!(named, "error {e} names {key:?}, which was not given");
            assert!(!e.to_string().is_empty());
        }
    }
});
