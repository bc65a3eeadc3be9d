# syntax=docker/dockerfile:1
#
# exportctl container image: the three release binaries (classifier,
# licensing, exportctl) on Debian slim, run as an unprivileged user.
#
#   docker build -t exportctl:local .
#   docker compose up              # classifier + licensing (docker-compose.yml)
#   docker run --rm -p 127.0.0.1:50051-50052:50051-50052 exportctl:local
#                                  # both services in one container (exportctl serve)
#
# Rule and policy packs are compiled into the binaries, the protos are
# compiled with protox and SQLite is bundled: the runtime stage needs nothing
# but the binaries and glibc. Configuration is by environment (CLASSIFIER_*,
# LICENSING_*, see README.md); the image sets none, so what a container gets is
# exactly what docker-compose.yml (or `docker run -e`) gives it.

# The toolchain the project is built and tested with; the builder and the
# runtime stage share a Debian release, so the binaries find the same glibc.
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------- builder
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
# Smaller binaries than the repository's release profile (which keeps line
# tables for profiling); symbol names stay for readable backtraces.
ENV CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    CARGO_TERM_COLOR=never
COPY . .
# The registry and target caches survive between builds (BuildKit); the
# binaries are copied out of the cached target directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin classifier --bin licensing --bin exportctl && \
    mkdir -p /out && \
    cp target/release/classifier target/release/licensing target/release/exportctl /out/

# ---------------------------------------------------------------- runtime
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# A fixed, unprivileged uid/gid; /var/lib/exportctl holds the SQLite ledger
# (mount a volume there) and is the working directory.
RUN groupadd --system --gid 10001 exportctl && \
    useradd --system --uid 10001 --gid exportctl --no-create-home \
        --home-dir /var/lib/exportctl --shell /usr/sbin/nologin exportctl && \
    install -d -o exportctl -g exportctl -m 0750 /var/lib/exportctl
COPY --from=builder /out/classifier /out/licensing /out/exportctl /usr/local/bin/
USER 10001:10001
WORKDIR /var/lib/exportctl
# 50051: classifier, 50052: licensing (gRPC, plaintext h2c unless TLS is configured).
EXPOSE 50051 50052
# SIGTERM drains in-flight calls before exit.
STOPSIGNAL SIGTERM
# Without a command: both services in one process on the embedded defaults,
# reachable from outside the container. docker-compose.yml runs them apart.
CMD ["exportctl", "serve", "--classifier-listen", "0.0.0.0:50051", "--licensing-listen", "0.0.0.0:50052"]
