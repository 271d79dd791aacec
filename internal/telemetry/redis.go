package telemetry

import (
	"context"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// RedisHook makes a client span per Redis command or pipeline run inside a traced request
// or job: named by the command ("GET", "EVALSHA"), never with keys or values.
type RedisHook struct{}

var _ redis.Hook = RedisHook{}

var redisSystem = attribute.String("db.system.name", "redis")

func (RedisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (RedisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		tr := tracerFrom(ctx)
		if tr == nil {
			return next(ctx, cmd)
		}
		op := strings.ToUpper(cmd.Name())
		ctx, span := tr.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(redisSystem, attribute.String("db.operation.name", op)))
		defer span.End()
		err := next(ctx, cmd)
		endRedis(span, err)
		return err
	}
}

func (RedisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		tr := tracerFrom(ctx)
		if tr == nil {
			return next(ctx, cmds)
		}
		ctx, span := tr.Start(ctx, "PIPELINE", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(redisSystem, attribute.String("db.operation.name", "PIPELINE"),
				attribute.Int("db.operation.batch.size", len(cmds))))
		defer span.End()
		err := next(ctx, cmds)
		endRedis(span, err)
		return err
	}
}

// endRedis marks a failed command; a missing key (redis.Nil) is an answer, not a failure.
func endRedis(span trace.Span, err error) {
	if err != nil && err != redis.Nil {
		span.SetStatus(codes.Error, "redis command failed")
	}
}
