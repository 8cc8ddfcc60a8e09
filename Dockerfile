# rosterd: a static binary on a distroless base, run as a non-root user.
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t rosterd .
#   docker run -p 8080:8080 -p 2022:2022 -v rosterd-data:/data rosterd
# Configuration: ROSTERD_<SETTING> environment variables, or a file
# mounted and named with --config (see deploy/rosterd.example.yaml).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Pure Go (the SQLite driver included): no C library needed at run time.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rosterd ./cmd/rosterd

# distroless/static: CA certificates and time zone data (organisations' time
# zones), no shell; "nonroot" is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rosterd /rosterd
USER 65532:65532
ENV ROSTERD_DATA_DIR=/data \
    ROSTERD_HTTP_ADDR=:8080 \
    ROSTERD_SFTP_ADDR=:2022
# SQLite database, SFTP host key and e-mail outbox (with PostgreSQL and SMTP
# configured, only the host key).
VOLUME ["/data"]
EXPOSE 8080 2022
# No shell or curl in the image: rosterd asks its own /readyz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/rosterd", "healthcheck"]
# SIGTERM (docker stop) lets running imports finish for shutdown_grace
# (30s): give docker stop a longer --time / stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/rosterd"]
CMD ["serve"]
