//! The checked-in OpenAPI document (`docs/openapi.json`) is the one the code generates:
//! regenerate it with `cargo run -p nuage -- openapi --output docs/openapi.json`.

use std::path::Path;

#[test]
fn checked_in_document_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = nuage_broker::api::openapi();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let checked_in: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json is missing or out of date: run `cargo run -p nuage -- openapi --output docs/openapi.json`"
    );
}

#[test]
fn document_covers_the_api_and_its_schemas() {
    let doc = nuage_broker::api::openapi();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in [
        ("/v1/requests", "post"),
        ("/v1/requests", "get"),
        ("/v1/requests/{id}", "get"),
        ("/v1/requests/{id}", "delete"),
        ("/v1/offers", "get"),
        ("/v1/plan", "post"),
        ("/v1/workflows", "get"),
        ("/v1/workflows/{id}", "get"),
        ("/v1/workflows/{id}/retry", "post"),
        ("/v1/workflows/{id}/cancel", "post"),
        ("/v1/workflows/{id}/compensate", "post"),
        ("/v1/audit", "get"),
        ("/v1/tokens", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(op["responses"]["500"].is_object(), "{method} {path}");
    }
    // the request body is the request's JSON Schema, its $refs resolvable in the document
    let body = &doc["paths"]["/v1/requests"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/ServiceRequest");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas["ServiceRequest"]["properties"]["resources"].is_object());
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap();
        let name = target.strip_prefix("#/components/schemas/").expect(target);
        assert!(schemas.contains_key(name), "dangling $ref {target}");
    }
    assert!(!text.contains("#/$defs/"));
    // the Idempotency-Key header and dryRun are documented
    let params = doc["paths"]["/v1/requests"]["post"]["parameters"].to_string();
    assert!(
        params.contains("Idempotency-Key") && params.contains("dryRun"),
        "{params}"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[test]
fn every_error_code_is_documented() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors");
    let index = std::fs::read_to_string(dir.join("README.md")).expect("docs/errors/README.md");
    for code in nuage_broker::Code::ALL {
        let name = code.as_str();
        let page = std::fs::read_to_string(dir.join(format!("{name}.md")))
            .unwrap_or_else(|_| panic!("docs/errors/{name}.md is missing"));
        assert!(
            page.contains(&format!("`{name}` ({}", code.status().as_u16())),
            "{name}"
        );
        assert!(
            index.contains(&format!("[`{name}`]({name}.md)")),
            "{name} not in the index"
        );
    }
}
