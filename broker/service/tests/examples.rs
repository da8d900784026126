//! The example configurations in `examples/config/` load and validate (their secrets are
//! references, resolved only when a provider is built).

use std::path::Path;

use nuage_broker::config::{Sources, load};

#[test]
fn example_configurations_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/config") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let c = load(&Sources::new().file(&path))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(c.engine.workers >= 1);
            seen += 1;
        }
    }
    assert!(seen >= 3, "expected the example configurations");
}

#[test]
fn production_example_keeps_secrets_out() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/config/production.yaml");
    let c = load(&Sources::new().file(&path)).unwrap();
    assert_eq!(c.providers.len(), 3);
    assert!(c.auth.bootstrap_token.is_some());
    assert_eq!(c.quota("min-interieur").vcpus, Some(512));
    assert_eq!(c.quota("dinum").vcpus, Some(64));
    let text = std::fs::read_to_string(&path).unwrap();
    for line in text.lines().filter(|l| l.contains("secret")) {
        assert!(
            line.contains("{file:") || line.contains("{env:") || line.trim_start().starts_with('#'),
            "a secret given inline: {line}"
        );
    }
}
