use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;

const ME: &str = "/api/v1/auth/me";

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Signs `claims` with `secret` the way an attacker who knew (or guessed) it would.
fn forge(claims: &Value, secret: &str, alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[track_caller]
fn assert_unauthorized(res: &crate::common::TestResponse) {
    res.problem(401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

/// A 401 saying the token's session has ended.
#[track_caller]
fn assert_session_ended(res: &crate::common::TestResponse) {
    assert_eq!(res.problem(401)["code"], "auth.session_ended");
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

/// A client address, for sign-ins that must not share a throttle.
fn ip(address: &str) -> std::net::IpAddr {
    address.parse().unwrap()
}

/// An administrator's change to an account (`PATCH /admin/authors/{id}`), which must succeed.
async fn change_account(
    app: &crate::common::TestApp,
    admin: &crate::common::TestUser,
    account: &crate::common::TestUser,
    body: serde_json::Value,
) {
    let path = format!("/api/v1/admin/authors/{}", account.id);
    app.as_user(&admin.access_token, Method::PATCH, &path, Some(&body))
        .await
        .expect(200);
}

/// `POST /auth/me/password` with this body, as the holder of `token`.
async fn change_password(
    app: &crate::common::TestApp,
    token: &str,
    body: &serde_json::Value,
) -> crate::common::TestResponse {
    app.as_user(token, Method::POST, "/api/v1/auth/me/password", Some(body))
        .await
}

backend_test!(
    async fn login_returns_a_token_pair_and_the_account(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let res = app.login(&editor).await.expect(200);
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let data = &res.data();
        assert_eq!(data["token_type"], "Bearer");
        assert_eq!(data["expires_in"], 900);
        assert_eq!(data["author"]["role"], "editor");
        assert_eq!(data["author"]["email"], editor.email.as_str());
        assert!(data["refresh_token"].as_str().unwrap().len() >= 43);

        let claims = claims_of(data["access_token"].as_str().unwrap());
        assert_eq!(claims["iss"], "newsdesk");
        assert_eq!(claims["aud"], "newsdesk-api");
        assert_eq!(claims["sub"], editor.id.to_string());
        assert_eq!(claims["role"], "editor");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            900
        );
        assert!(claims["jti"].is_string());

        let me = app
            .get_as(data["access_token"].as_str().unwrap(), ME)
            .await
            .expect(200);
        assert_eq!(me.data()["id"], editor.id);
    }
);

backend_test!(
    async fn the_email_is_matched_regardless_of_case(app: TestApp) {
        let user = app.user(Role::Author).await;
        app.login_as(&user.email.to_uppercase(), &user.password)
            .await
            .expect(200);
    }
);

backend_test!(
    async fn unknown_email_and_wrong_password_get_the_same_401(app: TestApp) {
        let user = app.user(Role::Author).await;
        let wrong = app.login_as(&user.email, "wrong password!").await;
        let unknown = app.login_as("nobody@example.vn", "wrong password!").await;
        assert_unauthorized(&wrong);
        assert_unauthorized(&unknown);
        assert_eq!(wrong.body, unknown.body);
        assert!(!wrong.text().contains(&user.email));
    }
);

backend_test!(
    async fn a_byline_without_credentials_cannot_sign_in(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let res = app
            .as_user(
                &admin.access_token,
                Method::POST,
                "/api/v1/admin/authors",
                Some(&json!({"name": "Hoàng Anh", "email": "hoang.anh@example.vn"})),
            )
            .await
            .expect(201);
        assert_eq!(res.data()["can_sign_in"], false);
        let login = app.login_as("hoang.anh@example.vn", "").await;
        assert_unauthorized(&login);
    }
);

backend_test!(
    async fn protected_routes_refuse_missing_and_forged_tokens(app: TestApp) {
        let user = app.user(Role::Editor).await;
        let secret = app.state.secrets.jwt.clone();
        let good = claims_of(&user.access_token);

        assert_unauthorized(&app.get(ME).await);
        assert_unauthorized(
            &app.call(
                actix_web::test::TestRequest::get()
                    .uri(ME)
                    .insert_header(("Authorization", "Basic YTpi")),
            )
            .await,
        );
        assert_unauthorized(&app.get_as("garbage", ME).await);
        assert_unauthorized(&app.get_as("a.b.c", ME).await);

        // Signed with another key.
        assert_unauthorized(
            &app.get_as(
                &forge(
                    &good,
                    "another secret of at least thirty-two bytes",
                    jsonwebtoken::Algorithm::HS256,
                ),
                ME,
            )
            .await,
        );
        // A right signature under another algorithm.
        assert_unauthorized(
            &app.get_as(&forge(&good, &secret, jsonwebtoken::Algorithm::HS512), ME)
                .await,
        );
        // `alg: none`, unsigned.
        {
            use base64::Engine;
            let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&good));
            assert_unauthorized(&app.get_as(&none, ME).await);
        }
        // The role claim tampered with, signature kept.
        {
            let mut parts: Vec<String> = user.access_token.split('.').map(str::to_owned).collect();
            let mut tampered = good.clone();
            tampered["role"] = json!("admin");
            use base64::Engine;
            parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tampered.to_string());
            assert_unauthorized(&app.get_as(&parts.join("."), "/api/v1/admin/authors").await);
        }
        let now = chrono::Utc::now().timestamp();
        for (field, value) in [
            ("exp", json!(now - 60)),
            ("aud", json!("someone-else")),
            ("iss", json!("not-newsdesk")),
            ("sub", json!("999999")),
            ("sub", json!("not a number")),
        ] {
            let mut claims = good.clone();
            claims[field] = value;
            let res = app
                .get_as(&forge(&claims, &secret, jsonwebtoken::Algorithm::HS256), ME)
                .await;
            assert_unauthorized(&res);
            if field == "exp" {
                assert!(res.json()["detail"].as_str().unwrap().contains("expired"));
            }
        }
        // The genuine token still works.
        app.get_as(&user.access_token, ME).await.expect(200);
    }
);

backend_test!(
    async fn the_role_in_the_database_wins_over_the_role_in_the_token(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let other = app.user(Role::Admin).await;
        app.get_as(&other.access_token, "/api/v1/admin/authors")
            .await
            .expect(200);
        change_account(&app, &admin, &other, json!({"role": "author"})).await;
        // A role change ends the account's sessions: the token claiming `admin` is dead.
        assert_session_ended(&app.get_as(&other.access_token, "/api/v1/admin/authors").await);
        // Signed in again, the account acts with the role the database holds.
        let again = app.login(&other).await.expect(200);
        app.get_as(
            again.data()["access_token"].as_str().unwrap(),
            "/api/v1/admin/authors",
        )
        .await
        .problem(403);
        // The refresh token of the ended session is refused too.
        assert_unauthorized(
            &app.post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": other.refresh_token}),
            )
            .await,
        );
    }
);

backend_test!(
    async fn refresh_rotates_and_a_replayed_token_revokes_the_session(app: TestApp) {
        let user = app.user(Role::Author).await;
        let first = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": user.refresh_token}),
            )
            .await
            .expect(200);
        let pair = first.data();
        let newer = pair["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(newer, user.refresh_token);
        app.get_as(pair["access_token"].as_str().unwrap(), ME)
            .await
            .expect(200);
        assert_eq!(
            claims_of(pair["access_token"].as_str().unwrap())["sid"],
            claims_of(&user.access_token)["sid"]
        );

        // The spent token again: refused, and the whole family with it.
        let replay = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": user.refresh_token}),
            )
            .await;
        assert_unauthorized(&replay);
        let after = app
            .post_json("/api/v1/auth/refresh", &json!({"refresh_token": newer}))
            .await;
        assert_unauthorized(&after);

        // Another session of the same account is untouched.
        let other = app.login(&user).await;
        let other_refresh = other.data()["refresh_token"].as_str().unwrap().to_owned();
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": other_refresh}))
            .await
            .expect(200);

        assert_unauthorized(
            &app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": "made-up"}))
                .await,
        );
    }
);

backend_test!(
    async fn concurrent_refreshes_of_one_token_let_exactly_one_through(app: TestApp) {
        let user = app.user(Role::Author).await;
        let body = json!({"refresh_token": user.refresh_token});
        let results =
            futures_util::future::join_all((0..6).map(|_| app.post_json("/api/v1/auth/refresh", &body)))
                .await;
        let ok = results.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            ok,
            1,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
    }
);

backend_test!(
    async fn logout_ends_the_session_and_is_idempotent(app: TestApp) {
        let user = app.user(Role::Author).await;
        let body = json!({"refresh_token": user.refresh_token});
        app.post_json("/api/v1/auth/logout", &body).await.expect(204);
        app.post_json("/api/v1/auth/logout", &body).await.expect(204);
        assert_unauthorized(&app.post_json("/api/v1/auth/refresh", &body).await);
        app.post_json("/api/v1/auth/logout", &json!({"refresh_token": "unknown"}))
            .await
            .expect(204);
    }
);

backend_test!(
    async fn a_password_change_keeps_this_session_and_ends_the_others(app: TestApp) {
        let user = app.user(Role::Author).await;
        let second = app.login(&user).await.data()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();

        let wrong = change_password(
            &app,
            &user.access_token,
            &json!({"current_password": "not it at all", "new_password": "a brand new secret"}),
        )
        .await;
        assert_eq!(wrong.problem(422)["errors"][0]["field"], "current_password");
        let weak = change_password(
            &app,
            &user.access_token,
            &json!({"current_password": user.password, "new_password": "short"}),
        )
        .await;
        assert_eq!(weak.problem(422)["errors"][0]["field"], "new_password");

        change_password(
            &app,
            &user.access_token,
            &json!({"current_password": user.password, "new_password": "a brand new secret"}),
        )
        .await
        .expect(204);

        assert_unauthorized(
            &app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": second}))
                .await,
        );
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": user.refresh_token}),
        )
        .await
        .expect(200);
        assert_unauthorized(&app.login(&user).await);
        app.login_as(&user.email, "a brand new secret").await.expect(200);
    }
);

backend_test!(
    async fn deactivation_blocks_the_token_refresh_and_sign_in_at_once(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let user = app.user(Role::Editor).await;
        app.get_as(&user.access_token, ME).await.expect(200);
        app.as_user(
            &admin.access_token,
            Method::DELETE,
            &format!("/api/v1/admin/authors/{}", user.id),
            None,
        )
        .await
        .expect(204);

        assert_unauthorized(&app.get_as(&user.access_token, ME).await);
        assert_unauthorized(
            &app.post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": user.refresh_token}),
            )
            .await,
        );
        assert_unauthorized(&app.login(&user).await);

        // The profile stays (bylines keep pointing at it), marked inactive.
        let account = app
            .get_as(&admin.access_token, &format!("/api/v1/admin/authors/{}", user.id))
            .await;
        assert_eq!(account.data()["active"], false);

        change_account(&app, &admin, &user, json!({"active": true})).await;
        app.login(&user).await.expect(200);
    }
);

backend_test!(
    async fn repeated_failures_for_one_email_are_throttled_with_retry_after(app: TestApp) {
        let user = app.user(Role::Author).await;
        for _ in 0..5 {
            app.login_as(&user.email, "guess guess guess").await.expect(401);
        }
        // Even the right password is refused while throttled.
        let res = app.login(&user).await;
        res.problem(429);
        let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        // Another account from the same client is not affected yet.
        let other = app.user(Role::Author).await;
        app.login(&other).await.expect(200);
    }
);

backend_test!(
    async fn one_client_guessing_many_emails_is_throttled(app: TestApp) {
        for n in 0..20 {
            app.login_as(&format!("guess{n}@example.vn"), "guess guess guess")
                .await
                .expect(401);
        }
        let res = app.login_as("guess99@example.vn", "guess guess guess").await;
        res.problem(429);
        assert!(res.header("retry-after").is_some());
    }
);

backend_test!(
    async fn a_successful_sign_in_clears_the_failures_of_its_email(app: TestApp) {
        let user = app.user(Role::Author).await;
        for _ in 0..4 {
            app.login_as(&user.email, "nope nope nope").await;
        }
        app.login(&user).await.expect(200);
        for _ in 0..4 {
            app.login_as(&user.email, "nope nope nope").await;
        }
        app.login(&user).await.expect(200);
    }
);

backend_test!(
    async fn login_bodies_are_validated(app: TestApp) {
        app.post_json("/api/v1/auth/login", &json!({"email": "a@b.vn"}))
            .await
            .problem(422);
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "a@b.vn", "password": "x", "role": "admin"}),
        )
        .await
        .problem(422);
        let huge = "x".repeat(2000);
        app.login_as("a@b.vn", &huge).await.problem(422);
    }
);

backend_test!(
    async fn patch_me_changes_the_own_profile_only(app: TestApp) {
        let user = app.user(Role::Contributor).await;
        let res = app
            .as_user(
                &user.access_token,
                Method::PATCH,
                ME,
                Some(&json!({"name": "  Nguyễn Văn A  ", "bio": "Cộng tác viên"})),
            )
            .await
            .expect(200);
        let data = &res.data();
        assert_eq!(data["name"], "Nguyễn Văn A");
        assert_eq!(data["bio"], "Cộng tác viên");
        assert_eq!(data["role"], "contributor");
        // Role and email are not one's own to change.
        app.as_user(
            &user.access_token,
            Method::PATCH,
            ME,
            Some(&json!({"role": "admin"})),
        )
        .await
        .problem(422);
        let cleared = app
            .as_user(&user.access_token, Method::PATCH, ME, Some(&json!({"bio": null})))
            .await;
        assert_eq!(cleared.data()["bio"], Value::Null);
        assert_eq!(cleared.data()["name"], "Nguyễn Văn A");
    }
);

backend_test!(
    async fn guessing_the_current_password_is_throttled_like_sign_in(app: TestApp) {
        let user = app.user(Role::Author).await;
        let guess = json!({"current_password": "not my password", "new_password": "a brand new secret"});
        for _ in 0..5 {
            let res = change_password(&app, &user.access_token, &guess).await;
            res.problem(422);
        }
        let right = json!({"current_password": user.password, "new_password": "a brand new secret"});
        let res = change_password(&app, &user.access_token, &right).await;
        res.problem(429);
        assert!(res.header("retry-after").is_some());
    }
);

backend_test!(
    async fn a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(app: TestApp) {
        let user = app.user(Role::Author).await;
        let body = json!({"email": user.email, "password": "parallel guess!"});
        let results =
            futures_util::future::join_all((0..30).map(|_| app.post_json("/api/v1/auth/login", &body))).await;
        let tried = results.iter().filter(|r| r.status == 401).count();
        let refused = results.iter().filter(|r| r.status == 429).count();
        assert_eq!(
            tried + refused,
            30,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_eq!(tried, 5, "exactly the limit reaches the password check");
    }
);

backend_test!(
    async fn signing_out_ends_the_access_token_at_once(app: TestApp) {
        let user = app.user(Role::Author).await;
        let other = app.sign_in(&user.email, &user.password).await;
        app.get_as(&user.access_token, ME).await.expect(200);
        app.post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": user.refresh_token}),
        )
        .await
        .expect(204);
        assert_session_ended(&app.get_as(&user.access_token, ME).await);
        // The account's other session goes on.
        app.get_as(&other, ME).await.expect(200);
    }
);

backend_test!(
    async fn a_replayed_refresh_token_ends_the_access_tokens_of_its_session(app: TestApp) {
        let user = app.user(Role::Author).await;
        let other = app.sign_in(&user.email, &user.password).await;
        let renewed = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": user.refresh_token}),
            )
            .await
            .expect(200)
            .data()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.get_as(&renewed, ME).await.expect(200);

        let replay = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": user.refresh_token}),
            )
            .await;
        assert_eq!(replay.problem(401)["code"], "auth.refresh_reused");
        // Both the first access token and the one issued by the rotation die with the family.
        assert_session_ended(&app.get_as(&user.access_token, ME).await);
        assert_session_ended(&app.get_as(&renewed, ME).await);
        app.get_as(&other, ME).await.expect(200);
    }
);

backend_test!(
    async fn a_password_change_ends_the_access_tokens_of_the_other_sessions(app: TestApp) {
        let user = app.user(Role::Author).await;
        let other = app.sign_in(&user.email, &user.password).await;
        app.get_as(&other, ME).await.expect(200);
        change_password(
            &app,
            &user.access_token,
            &json!({"current_password": user.password, "new_password": "a brand new secret"}),
        )
        .await
        .expect(204);
        assert_session_ended(&app.get_as(&other, ME).await);
        // The session that changed the password stays signed in.
        app.get_as(&user.access_token, ME).await.expect(200);
    }
);

backend_test!(
    async fn an_administrators_password_reset_ends_a_stolen_access_token(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let article = json!({"title": "Tin nóng trong ngày"});
        app.as_user(
            &editor.access_token,
            Method::POST,
            "/api/v1/admin/articles",
            Some(&article),
        )
        .await
        .expect(201);

        change_account(
            &app,
            &admin,
            &editor,
            json!({"password": "a reset password for the editor"}),
        )
        .await;
        assert_session_ended(
            &app.as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&article),
            )
            .await,
        );
        let fresh = app
            .sign_in(&editor.email, "a reset password for the editor")
            .await;
        app.as_user(&fresh, Method::POST, "/api/v1/admin/articles", Some(&article))
            .await
            .expect(201);
    }
);

backend_test!(
    async fn a_token_from_before_a_deactivation_stays_dead_after_reactivation(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let user = app.user(Role::Editor).await;
        let path = format!("/api/v1/admin/authors/{}", user.id);
        app.as_user(&admin.access_token, Method::DELETE, &path, None)
            .await
            .expect(204);
        assert_eq!(
            app.get_as(&user.access_token, ME).await.problem(401)["code"],
            "auth.account_inactive"
        );
        app.as_user(
            &admin.access_token,
            Method::PATCH,
            &path,
            Some(&json!({"active": true})),
        )
        .await
        .expect(200);
        assert_session_ended(&app.get_as(&user.access_token, ME).await);
        // A new sign-in after the reactivation works.
        let fresh = app.sign_in(&user.email, &user.password).await;
        app.get_as(&fresh, ME).await.expect(200);
    }
);

backend_test!(
    async fn wrong_passwords_from_one_client_do_not_lock_the_owner_out(app: TestApp) {
        let user = app.user(Role::Editor).await;
        for n in 0..8 {
            let res = app
                .login_from(ip("127.0.0.2"), &user.email, "a guess of a password")
                .await;
            assert_eq!(
                res.status,
                if n < 5 { 401 } else { 429 },
                "attempt {n}: {}",
                res.text()
            );
        }
        app.login_from(ip("127.0.0.3"), &user.email, &user.password)
            .await
            .expect(200);
        // The guessing client stays throttled, even with the right password.
        let res = app.login_from(ip("127.0.0.2"), &user.email, &user.password).await;
        assert_eq!(res.problem(429)["code"], "auth.rate_limited");
        let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
    }
);

/// Moves every recorded sign-in failure `seconds` into the past, as if that time had passed.
async fn age_failures(app: &crate::common::TestApp, seconds: i64) {
    use diesel::prelude::*;
    use newsdesk::db::schema::login_failures;
    app.state
        .db
        .run(move |conn| {
            let rows: Vec<(i64, chrono::NaiveDateTime)> = login_failures::table
                .select((login_failures::id, login_failures::failed_at))
                .load(conn)?;
            for (id, at) in rows {
                diesel::update(login_failures::table.find(id))
                    .set(login_failures::failed_at.eq(at - chrono::Duration::seconds(seconds)))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

backend_test!(
    async fn guesses_spread_over_many_clients_meet_a_short_growing_back_off(app: TestApp) {
        let user = app.user(Role::Editor).await;
        // 100 failures from 25 clients, each under its own limits.
        for client in 0..25 {
            for _ in 0..4 {
                app.login_from(ip(&format!("10.9.0.{client}")), &user.email, "spread guess!")
                    .await
                    .expect(401);
            }
        }
        // The email's ceiling is reached: every client waits a moment, not fifteen minutes.
        let res = app.login_from(ip("10.9.1.1"), &user.email, &user.password).await;
        assert_eq!(res.problem(429)["code"], "auth.rate_limited");
        let first: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=2).contains(&first), "{first}");

        // Once the back-off has passed, the owner signs in.
        age_failures(&app, 60).await;
        app.login_from(ip("10.9.1.2"), &user.email, &user.password)
            .await
            .expect(200);

        // One more failure, and the next wait is longer.
        app.login_from(ip("10.9.1.3"), &user.email, "spread guess!")
            .await
            .expect(401);
        let res = app.login_from(ip("10.9.1.4"), &user.email, "spread guess!").await;
        res.problem(429);
        let second: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!(second > first && second <= 60, "{first} then {second}");
    }
);
