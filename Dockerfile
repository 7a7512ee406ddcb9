# Build: a static-enough binary (bundled SQLite and libpq, vendored OpenSSL) needing only libc.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src src
COPY migrations migrations
# The message catalogue is compiled in.
COPY locales locales
# The demo article is compiled in from the fixture page.
COPY tests/fixtures tests/fixtures
# So is the reference reader page.
COPY examples/reader/index.html examples/reader/reader.js examples/reader/style.css examples/reader/
RUN cargo build --release --locked && cp target/release/newsdesk /newsdesk

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/newsdesk --create-home newsdesk
COPY --from=build /newsdesk /usr/local/bin/newsdesk
USER newsdesk
WORKDIR /var/lib/newsdesk
ENV NEWSDESK_BIND=0.0.0.0:8080 \
    NEWSDESK_DATABASE_URL=sqlite:///var/lib/newsdesk/newsdesk.db
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1
ENTRYPOINT ["newsdesk"]
CMD ["serve"]
