use actix_web::test::TestRequest;
use newsdesk::auth::Role;

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
        let res = app.get("/openapi.json").await.expect(200);
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

/// Every `$ref` string in `value`, with the JSON path where it sits.
fn refs<'a>(value: &'a serde_json::Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", serde_json::Value::String(target)) => found.push((at.clone(), target)),
                    _ => refs(child, format!("{at}/{key}"), found),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_reference_in_the_committed_spec_resolves() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let mut found = Vec::new();
    refs(&spec, String::new(), &mut found);
    assert!(!found.is_empty(), "the document uses references");
    let dangling: Vec<String> = found
        .iter()
        .filter(|(_, target)| {
            // Only local references: the document is served alone, with nothing beside it.
            target
                .strip_prefix('#')
                .is_none_or(|pointer| spec.pointer(pointer).is_none())
        })
        .map(|(at, target)| format!("{at}: {target}"))
        .collect();
    assert!(
        dangling.is_empty(),
        "references that resolve to nothing:\n{}",
        dangling.join("\n")
    );
}

#[test]
fn every_operation_declares_its_security() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares `security`"));
            // Public operations say so with an empty list; the rest take the bearer token.
            let public = security.is_empty();
            let bearer = security == &[serde_json::json!({"bearer": []})];
            assert!(
                public || bearer,
                "{method} {path}: security is [] or bearer, not {security:?}"
            );
            assert_eq!(
                bearer,
                path.starts_with("/api/v1/admin/") || path.starts_with("/api/v1/auth/me"),
                "{method} {path}: bearer exactly on the admin and own-account operations"
            );
        }
    }
}

#[test]
fn envelopes_refer_to_the_resources_they_hold() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let envelopes: Vec<_> = schemas
        .iter()
        .filter(|(name, _)| name.starts_with("Data_") || name.starts_with("List_"))
        .collect();
    assert!(!envelopes.is_empty());
    for (name, schema) in envelopes {
        let data = &schema["properties"]["data"];
        let item = data.get("items").unwrap_or(data);
        assert!(
            item["$ref"].is_string() && item.as_object().unwrap().len() == 1,
            "{name}.data refers to a named schema instead of copying one: {data}"
        );
    }
}

/// Properties of response schemas that the server leaves out at times (`skip_serializing_if`):
/// the only ones that may be missing from `required`.
const SOMETIMES_ABSENT: &[(&str, &str)] = &[("ChangedWebhook", "secret"), ("ListMeta", "total_capped")];

/// Names of the schemas that `value` refers to, directly or through other schemas.
fn reachable(value: &serde_json::Value, schemas: &serde_json::Value, seen: &mut Vec<String>) {
    let mut found = Vec::new();
    refs(value, String::new(), &mut found);
    for (_, target) in found {
        if let Some(name) = target.strip_prefix("#/components/schemas/")
            && !seen.iter().any(|s| s == name)
        {
            seen.push(name.to_owned());
            reachable(&schemas[name], schemas, seen);
        }
    }
}

#[test]
fn response_schemas_require_every_property_the_server_always_sends() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut names = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            reachable(&op["responses"], schemas, &mut names);
        }
    }
    // Problem documents belong to the error handling, which keeps its own optional fields.
    names.retain(|n| n != "Problem" && n != "FieldError");
    assert!(names.iter().any(|n| n == "ArticleSummary"));
    let mut missing = Vec::new();
    for name in &names {
        let schema = &schemas[name.as_str()];
        let parts = schema["allOf"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![schema.clone()]);
        for part in parts {
            let Some(properties) = part["properties"].as_object() else {
                continue;
            };
            let required = part["required"].as_array().cloned().unwrap_or_default();
            for property in properties.keys() {
                let listed = required.iter().any(|r| r == property);
                let may_be_absent = SOMETIMES_ABSENT.contains(&(name.as_str(), property.as_str()));
                if listed == may_be_absent {
                    missing.push(format!("{name}.{property}: required is {listed}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "response properties are required exactly when always sent:\n{}",
        missing.join("\n")
    );
}

backend_test!(
    /// Routes and documented operations come from one list; this checks the outcome through
    /// HTTP: every documented operation is served, and every one documented as needing a
    /// token refuses a request without one.
    async fn every_documented_operation_is_served_and_guarded_as_documented(app: TestApp) {
        let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
        for (path, item) in spec["paths"].as_object().unwrap() {
            // Path parameters filled with values every parameter type accepts.
            let uri = path
                .replace("{page}", "1")
                .split('/')
                .map(|segment| if segment.starts_with('{') { "1" } else { segment })
                .collect::<Vec<_>>()
                .join("/");
            for (method, op) in item.as_object().unwrap() {
                let method = actix_web::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let res = app.send(method.clone(), &uri).await;
                assert_ne!(res.status, 405, "{method} {uri} is served");
                if res.status == 404 {
                    assert_ne!(res.json()["code"], "route.not_found", "{method} {uri} is served");
                }
                if op["security"] != serde_json::json!([]) {
                    assert_eq!(res.status, 401, "{method} {uri} needs a token");
                }
            }
        }
    }
);

backend_test!(
    /// The answers the document adds from an operation's inputs are the ones the server gives:
    /// a body that is not JSON gets 415 wherever a JSON body is documented, and an id that
    /// names nothing gets 404 wherever a path parameter is.
    async fn answers_implied_by_inputs_are_served(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
        let mut checked = (0, 0);
        for (path, item) in spec["paths"].as_object().unwrap() {
            let uri = path
                .replace("{page}", "99999")
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "99999"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for (method, op) in item.as_object().unwrap() {
                let method = actix_web::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let authorised = |req: TestRequest| {
                    req.method(method.clone())
                        .uri(&uri)
                        .insert_header(("Authorization", format!("Bearer {}", admin.access_token)))
                };
                let responses = op["responses"].as_object().unwrap();
                if op["requestBody"]["content"]["application/json"].is_object() {
                    assert!(responses.contains_key("415"), "{method} {path} documents 415");
                    let req = authorised(TestRequest::default())
                        .insert_header(("Content-Type", "text/plain"))
                        .set_payload("{}");
                    app.call(req).await.problem(415);
                    checked.0 += 1;
                } else if path.contains('{') {
                    assert!(responses.contains_key("404"), "{method} {path} documents 404");
                    app.call(authorised(TestRequest::default())).await.problem(404);
                    checked.1 += 1;
                }
            }
        }
        assert!(checked.0 >= 15 && checked.1 >= 15, "checked {checked:?}");
    }
);
