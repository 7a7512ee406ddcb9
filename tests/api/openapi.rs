use crate::backend_test;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = newsdesk::openapi::spec_json();
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale; regenerate it with:\n\n    cargo run -- openapi > openapi/openapi.json\n"
    );
}

backend_test!(
    async fn the_served_spec_is_the_committed_one(app: TestApp) {
        let res = app.get("/openapi.json").await;
        assert_eq!(res.status, 200);
        let committed: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
        assert_eq!(res.json(), committed);
    }
);

#[test]
fn the_spec_declares_bearer_auth_and_the_problem_schema() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let problem = &spec["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status"] {
        assert!(
            problem["required"].as_array().unwrap().iter().any(|f| f == field),
            "{field} is required in Problem"
        );
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has an operation id"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents responses"
            );
        }
    }
}
