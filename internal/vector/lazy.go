package vector

import (
	"context"
	"errors"
	"sync"
)

// Lazy is a Store that connects on first use and retries on later calls while it cannot, so
// that a process starts (and reports the store in its readiness check) while a remote store
// such as Qdrant is down.
type Lazy struct {
	open func(context.Context) (Store, error)

	mu sync.Mutex
	s  Store
}

// NewLazy returns a Store that calls open when it is first needed.
func NewLazy(open func(context.Context) (Store, error)) *Lazy { return &Lazy{open: open} }

func (l *Lazy) get(ctx context.Context) (Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s != nil {
		return l.s, nil
	}
	s, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	l.s = s
	return s, nil
}

func (l *Lazy) Upsert(ctx context.Context, items []Item) error {
	s, err := l.get(ctx)
	if err != nil {
		return err
	}
	return s.Upsert(ctx, items)
}

func (l *Lazy) Delete(ctx context.Context, ids ...string) error {
	s, err := l.get(ctx)
	if err != nil {
		return err
	}
	return s.Delete(ctx, ids...)
}

func (l *Lazy) Search(ctx context.Context, q []float32, k int, filter map[string]string) ([]Hit, error) {
	s, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.Search(ctx, q, k, filter)
}

// Ping connects if needed and pings the store when it can be pinged.
func (l *Lazy) Ping(ctx context.Context) error {
	s, err := l.get(ctx)
	if err != nil {
		return err
	}
	if p, ok := s.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Count reports the stored items when the store can count them.
func (l *Lazy) Count(ctx context.Context) (int, error) {
	s, err := l.get(ctx)
	if err != nil {
		return 0, err
	}
	if c, ok := s.(interface {
		Count(context.Context) (int, error)
	}); ok {
		return c.Count(ctx)
	}
	return 0, errors.ErrUnsupported
}

// Close closes the store if it was opened and can be closed.
func (l *Lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.s.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
