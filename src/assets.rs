//! The static files compiled into the binary and their fingerprint, which
//! page links carry. Pure data: serving them is `handlers::assets`.

/// (name, content type, bytes)
pub const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../static/favicon.svg"),
    ),
];

/// A short fingerprint of all static files: pages link to
/// `/static/app.css?v=<fingerprint>`, so browsers may cache files for a year
/// and still fetch the new ones right after an upgrade.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        // FNV-1a: stable across builds and platforms (unlike DefaultHasher).
        let hash = FILES
            .iter()
            .flat_map(|(_, _, bytes)| bytes.iter())
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        format!("{hash:016x}")
    })
}
