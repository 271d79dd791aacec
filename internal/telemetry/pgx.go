package telemetry

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// PgxTracer makes a client span per PostgreSQL query run inside a traced request or job.
// The span is named by the sqlc statement name ("-- name: GetUser :one"), or by the SQL's
// first keyword for other statements (River's, goose's); the SQL text and the arguments
// are never recorded, so no value (password hash, message text) leaves the process.
type PgxTracer struct{}

var _ pgx.QueryTracer = PgxTracer{}

var dbSystem = attribute.String("db.system.name", "postgresql")

func (PgxTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	tr := tracerFrom(ctx)
	if tr == nil {
		return ctx
	}
	name, op := StatementName(data.SQL)
	ctx, _ = tr.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(dbSystem, attribute.String("db.operation.name", op), attribute.String("db.query.summary", name)))
	return ctx
}

func (PgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if data.Err != nil {
		span.SetStatus(codes.Error, "query failed")
		span.SetAttributes(attribute.String("error.type", errorType(data.Err)))
	} else {
		span.SetAttributes(attribute.Int64("db.response.returned_rows", data.CommandTag.RowsAffected()))
	}
	span.End()
}

// StatementName is the sqlc query name of sql ("GetUser") with its first SQL keyword, or
// the keyword alone for SQL that sqlc did not generate.
func StatementName(sql string) (name, op string) {
	s := strings.TrimSpace(sql)
	if rest, ok := strings.CutPrefix(s, "-- name: "); ok {
		line, body, _ := strings.Cut(rest, "\n")
		name, _, _ = strings.Cut(line, " ")
		s = strings.TrimSpace(body)
	}
	for strings.HasPrefix(s, "--") { // other leading comments
		_, s, _ = strings.Cut(s, "\n")
		s = strings.TrimSpace(s)
	}
	op, _, _ = strings.Cut(s, " ")
	if i := strings.IndexAny(op, "\n\t("); i >= 0 {
		op = op[:i]
	}
	op = strings.ToUpper(op)
	if len(op) > 16 {
		op = op[:16]
	}
	if name == "" {
		name = op
	}
	return name, op
}

// errorType is a bounded label for an error: the PostgreSQL SQLSTATE when there is one.
func errorType(err error) string {
	var coded interface{ SQLState() string }
	if asError(err, &coded) {
		return coded.SQLState()
	}
	return "error"
}

func asError(err error, target any) bool { return errors.As(err, target) }
