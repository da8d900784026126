//! Real authentication failures: moto with IAM enforcement refuses an access key it never
//! issued, the adapter classifies it as `auth`, and the secret never shows in the error.

mod common;

use common::*;
use nuage_provider::{ErrorKind, Provider};
use nuage_provider_aws::AwsProvider;
use nuage_provider_aws::testing::{MotoOptions, MotoServer};

#[tokio::test]
async fn an_unknown_access_key_is_an_auth_error() {
    let moto = MotoServer::start_with(MotoOptions {
        iam_auth: true,
        ..MotoOptions::default()
    });
    let config = moto.config("aws-iam");
    let p = AwsProvider::connect(config.clone()).await.unwrap();
    let err = p.observe(&network(&request("iam"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!err.is_retryable());
    assert!(err.native_code().is_some());
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        format!("{config:?}"),
        format!("{p:?}"),
    ] {
        assert!(
            !shown.contains("nuage-moto-test-secret"),
            "secret leaked: {shown}"
        );
    }
}
