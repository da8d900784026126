//! Keystone v3 authentication against a real Keystone (from PyPI, started by
//! scripts/openstack/start-stack in Keystone-only mode): password and application credential,
//! project and domain scope, wrong secrets, token caching, renewal before expiry and on 401,
//! catalog selection, and secrets kept out of logs and errors.

mod common;

use std::sync::Arc;
use std::time::Duration;

use nuage_provider::{ErrorKind, Secret};
use nuage_provider_openstack::{
    AuthConfig, Credentials, Error, Interface, OpenStackConfig, Request, Scope, Session,
};
use reqwest::Method;

fn password_config(scope: Option<Scope>) -> OpenStackConfig {
    let stack = common::keystone();
    let mut config = stack.user_config("keystone-tests", "nuage");
    config.auth.scope = scope;
    config
}

fn app_credential_config(secret: &str) -> OpenStackConfig {
    let stack = common::keystone();
    OpenStackConfig::new(
        "keystone-tests",
        AuthConfig {
            auth_url: stack.auth_url(),
            credentials: Credentials::ApplicationCredential {
                id: Some(stack.str("/application_credential/id")),
                name: None,
                username: None,
                user_id: None,
                user_domain: "Default".into(),
                secret: Secret::new(secret).into(),
            },
            scope: None,
        },
    )
}

/// An authenticated call to Keystone itself through the session (the identity endpoint of
/// the catalog): the projects the token's user may use.
async fn list_my_projects(session: &Session) -> Result<Vec<String>, Error> {
    let token = session.token().await?;
    let path = format!("users/{}/projects", token.user_id);
    let reply = session
        .send(Request::new("identity", Method::GET, &path))
        .await?;
    let body: serde_json::Value = reply.json()?;
    Ok(body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect())
}

#[tokio::test]
async fn password_auth_scopes_to_a_project_or_a_domain() {
    let stack = common::keystone();
    let session = Session::new(&password_config(Some(Scope::project("nuage", "Default")))).unwrap();
    let token = session.token().await.unwrap();
    assert_eq!(
        token.project_id.as_deref(),
        Some(stack.str("/user/project_id").as_str())
    );
    assert_eq!(token.user_id, stack.str("/user/id"));
    assert!(
        token.roles.iter().any(|r| r == "member"),
        "{:?}",
        token.roles
    );
    assert!(token.expires_at > chrono::Utc::now());
    let mut projects = list_my_projects(&session).await.unwrap();
    projects.sort();
    assert_eq!(projects, vec!["nuage", "nuage-quota"]);

    // Project given by id.
    let by_id = Session::new(&password_config(Some(Scope::Project {
        id: Some(stack.str("/user/project_id")),
        name: None,
        domain: "Default".into(),
    })))
    .unwrap();
    assert_eq!(by_id.token().await.unwrap().project_id, token.project_id);

    // Domain scope: a user of another domain, scoped to that domain.
    let mut domain = stack.user_config("keystone-tests", "unused");
    domain.auth.credentials = Credentials::Password {
        username: stack.str("/domain_user/username"),
        user_domain: stack.str("/domain_user/domain"),
        password: Secret::new(stack.str("/domain_user/password")).into(),
    };
    domain.auth.scope = Some(Scope::domain(stack.str("/domain_user/domain")));
    let session = Session::new(&domain).unwrap();
    let token = session.token().await.unwrap();
    assert_eq!(
        token.domain_id.as_deref(),
        Some(stack.str("/domain_user/domain_id").as_str())
    );
    assert_eq!(token.project_id, None);
    // ... and to its project, named within that domain.
    domain.auth.scope = Some(Scope::project(
        stack.str("/domain_user/project"),
        stack.str("/domain_user/domain"),
    ));
    let token = Session::new(&domain).unwrap().token().await.unwrap();
    assert_eq!(
        token.project_id.as_deref(),
        Some(stack.str("/domain_user/project_id").as_str())
    );
}

#[tokio::test]
async fn application_credentials_authenticate_by_id_and_by_name() {
    let stack = common::keystone();
    let secret = stack.str("/application_credential/secret");
    let session = Session::new(&app_credential_config(&secret)).unwrap();
    let token = session.token().await.unwrap();
    assert_eq!(
        token.project_id.as_deref(),
        Some(stack.str("/user/project_id").as_str())
    );
    assert_eq!(token.user_id, stack.str("/user/id"));
    assert!(!list_my_projects(&session).await.unwrap().is_empty());

    let mut by_name = app_credential_config(&secret);
    by_name.auth.credentials = Credentials::ApplicationCredential {
        id: None,
        name: Some(stack.str("/application_credential/name")),
        username: Some(stack.str("/user/username")),
        user_id: None,
        user_domain: "Default".into(),
        secret: Secret::new(secret).into(),
    };
    let token = Session::new(&by_name).unwrap().token().await.unwrap();
    assert_eq!(
        token.project_id.as_deref(),
        Some(stack.str("/user/project_id").as_str())
    );
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_secrets_are_auth_errors_that_never_show_the_secret() {
    let stack = common::keystone();
    let (logs, _guard) = common::capture_logs();

    let mut config = password_config(Some(Scope::project("nuage", "Default")));
    let wrong = "wrong-password-4711";
    config.auth.credentials = Credentials::Password {
        username: stack.str("/user/username"),
        user_domain: "Default".into(),
        password: Secret::new(wrong).into(),
    };
    let session = Session::new(&config).unwrap();
    let err = session.token().await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        err.request_id().is_some_and(|id| id.starts_with("req-")),
        "{err:?}"
    );
    let contract: nuage_provider::Error = err.clone().into();
    assert_eq!(contract.kind(), ErrorKind::Auth);
    assert!(!contract.is_retryable());

    // An application credential with a wrong secret: 401.
    let err = Session::new(&app_credential_config("not-the-secret-0815"))
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
    // An unknown application credential id: Keystone says 404, which is an auth failure too.
    let mut unknown = app_credential_config("whatever-secret-1234");
    unknown.auth.credentials = Credentials::ApplicationCredential {
        id: Some("0123456789abcdef0123456789abcdef".into()),
        name: None,
        username: None,
        user_id: None,
        user_domain: "Default".into(),
        secret: Secret::new("whatever-secret-1234").into(),
    };
    let err = Session::new(&unknown).unwrap().token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");

    // A successful authentication logs its request id, never the token or password.
    let good = Session::new(&password_config(Some(Scope::project("nuage", "Default")))).unwrap();
    let token = good.token().await.unwrap();
    list_my_projects(&good).await.unwrap();

    let text = logs.text();
    for secret in [
        wrong,
        "not-the-secret-0815",
        "whatever-secret-1234",
        &stack.str("/user/password"),
        token.value.expose(),
    ] {
        assert!(!text.contains(secret), "a secret reached the logs");
        assert!(!format!("{err:?} {err} {session:?} {config:?}").contains(secret));
    }
    assert!(text.contains("keystone token issued"), "{text}");
    assert!(
        text.contains("request_id=\"req-") || text.contains("request_id=req-"),
        "{text}"
    );
    assert!(text.contains("openstack call refused"), "{text}");
}

#[tokio::test]
async fn tokens_are_cached_and_renewed_before_they_expire() {
    // Keystone of this stack issues tokens valid for KEYSTONE_TOKEN_SECONDS.
    let mut config = password_config(Some(Scope::project("nuage", "Default")));
    config.token_refresh_margin = Duration::from_secs(3);
    let session = Session::new(&config).unwrap();
    let first = session.token().await.unwrap();
    for _ in 0..3 {
        list_my_projects(&session).await.unwrap();
    }
    assert_eq!(session.tokens_issued(), 1, "one token serves every call");
    let lifetime = (first.expires_at - first.issued_at).num_seconds();
    assert_eq!(lifetime, common::KEYSTONE_TOKEN_SECONDS as i64);

    // Inside the margin (3 s before expiry) the next call renews, while the old token is
    // still valid.
    let until_margin = (first.expires_at - chrono::Utc::now()).to_std().unwrap()
        - Duration::from_secs(3)
        + Duration::from_millis(300);
    tokio::time::sleep(until_margin).await;
    assert!(chrono::Utc::now() < first.expires_at);
    list_my_projects(&session).await.unwrap();
    assert_eq!(session.tokens_issued(), 2);
    let second = session.token().await.unwrap();
    assert_ne!(second.value.expose(), first.value.expose());

    // Once expired, a session that kept no margin renews on the next call too.
    config.token_refresh_margin = Duration::ZERO;
    let late = Session::new(&config).unwrap();
    let token = late.token().await.unwrap();
    let until_expiry = (token.expires_at - chrono::Utc::now()).to_std().unwrap();
    tokio::time::sleep(until_expiry + Duration::from_millis(300)).await;
    list_my_projects(&late).await.unwrap();
    assert_eq!(late.tokens_issued(), 2);
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_call_retried() {
    let stack = common::keystone();
    let session = Session::new(&password_config(Some(Scope::project("nuage", "Default")))).unwrap();
    let token = session.token().await.unwrap();
    list_my_projects(&session).await.unwrap();

    // Revoke the cached token behind the session's back (as an operator would).
    let admin = Session::new(&stack.admin_config()).unwrap();
    let mut revoke = Request::new("identity", Method::DELETE, "auth/tokens");
    revoke.headers = vec![("X-Subject-Token", token.value.expose().to_owned())];
    admin.send(revoke).await.unwrap();

    // Keystone now answers 401 to the old token: the session renews and retries.
    let projects = list_my_projects(&session).await.unwrap();
    assert!(projects.contains(&"nuage".to_owned()));
    assert_eq!(session.tokens_issued(), 2);
    let renewed = session.token().await.unwrap();
    assert!(!Arc::ptr_eq(&renewed, &token));
}

#[tokio::test]
async fn endpoints_are_selected_by_type_interface_and_region() {
    let mut config = password_config(Some(Scope::project("nuage", "Default")));
    config.region = Some("RegionOne".into());
    let session = Session::new(&config).unwrap();
    assert_eq!(
        session.endpoint("compute").await.unwrap(),
        "http://compute.region-one.example/public/v2.1"
    );
    assert!(session.endpoint("identity").await.unwrap().ends_with("/v3"));

    config.interface = Interface::Internal;
    let internal = Session::new(&config).unwrap();
    assert_eq!(
        internal.endpoint("compute").await.unwrap(),
        "http://compute.region-one.example/internal/v2.1"
    );

    config.interface = Interface::Public;
    config.region = Some("RegionTwo".into());
    let two = Session::new(&config).unwrap();
    assert_eq!(
        two.endpoint("compute").await.unwrap(),
        "http://compute.region-two.example/public/v2.1"
    );
    // RegionTwo has no admin endpoint, and no network service at all.
    config.interface = Interface::Admin;
    let err = Session::new(&config)
        .unwrap()
        .endpoint("compute")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoEndpoint { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Terminal);
    let err = two.endpoint("network").await.unwrap_err().to_string();
    assert!(
        err.contains("the catalog offers compute, identity"),
        "{err}"
    );

    // Without a region, compute (offered in two regions) is ambiguous and refused.
    config.interface = Interface::Public;
    config.region = None;
    let err = Session::new(&config)
        .unwrap()
        .endpoint("compute")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("several regions (RegionOne, RegionTwo)"),
        "{err}"
    );

    // An override wins over the catalog, with the project substituted.
    config.region = Some("RegionOne".into());
    config.endpoint_overrides.insert(
        "volumev3".into(),
        "http://cinder.example/v3/%(project_id)s".into(),
    );
    let session = Session::new(&config).unwrap();
    let project = session.token().await.unwrap().project_id.clone().unwrap();
    assert_eq!(
        session.endpoint("volumev3").await.unwrap(),
        format!("http://cinder.example/v3/{project}")
    );
}
