# syntax=docker/dockerfile:1
# Multi-stage build: a static binary on a distroless, non-root base. It is built without cgo,
# so it has NO offline voice (pocketsphinx/flite need cgo and their Debian libraries): voice
# requests answer 503 VOICE_UNAVAILABLE unless OPENAI_API_KEY or OPENAI_BASE_URL points the
# voice providers at an OpenAI-compatible server (docs/voice.md).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/voiceassist/gateway/internal/buildinfo.Version=${VERSION} -X github.com/voiceassist/gateway/internal/buildinfo.Commit=${COMMIT}" \
      -o /out/voiceassist ./cmd/voiceassist

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/voiceassist /usr/local/bin/voiceassist
ENV HOST=0.0.0.0 PORT=8000 DATA_DIR=/var/lib/voiceassist
USER nonroot:nonroot
EXPOSE 8000
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/voiceassist"]
CMD ["serve"]
