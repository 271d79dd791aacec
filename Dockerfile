# syntax=docker/dockerfile:1
# Multi-stage build: a static binary on a distroless, non-root base. It is built without cgo,
# so it has NO offline voice (pocketsphinx/flite need cgo and their Debian libraries): voice
# requests answer 503 VOICE_UNAVAILABLE unless OPENAI_API_KEY or OPENAI_BASE_URL points the
# voice providers at an OpenAI-compatible server (docs/voice.md).
#
# Two images from one build (the seed's Dockerfile and Dockerfile.worker):
#   docker build -t voiceassist .                          the API server (default target)
#   docker build --target worker -t voiceassist-worker .   background jobs, no HTTP API
# Both run as nonroot (65532) and work with a read-only root filesystem: everything the
# binary writes goes to DATA_DIR (a volume) or TMPDIR (a tmpfs), e.g.
#   docker run --read-only --tmpfs /tmp -v voiceassist-data:/var/lib/voiceassist ... voiceassist
# The image has no shell: the health checks run `voiceassist healthcheck` (exec form).
FROM golang:1.26-bookworm AS build
# The Go release the Makefile builds with (standard-library fixes, see Makefile).
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/voiceassist/gateway/internal/buildinfo.Version=${VERSION} -X github.com/voiceassist/gateway/internal/buildinfo.Commit=${COMMIT}" \
      -o /out/voiceassist ./cmd/voiceassist
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/voiceassist /usr/local/bin/voiceassist
# DATA_DIR, owned by nonroot, so that a fresh named volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/voiceassist
ENV DATA_DIR=/var/lib/voiceassist TMPDIR=/tmp
USER nonroot:nonroot
VOLUME ["/var/lib/voiceassist"]
ENTRYPOINT ["/usr/local/bin/voiceassist"]

# The worker: document indexing, scheduled flag changes and session cleanup, without the HTTP
# API (run the servers with JOBS_ENABLED=false). Liveness on 127.0.0.1:8001 inside the
# container (WORKER_HEALTH_ADDR).
FROM runtime AS worker
ENV WORKER_HEALTH_ADDR=127.0.0.1:8001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/voiceassist", "healthcheck", "--worker"]
CMD ["worker"]

# The API server (default target: the last stage). It runs the jobs too unless
# JOBS_ENABLED=false.
FROM runtime AS server
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/voiceassist", "healthcheck"]
CMD ["serve"]
