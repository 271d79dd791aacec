package httpserver

// opTable maps an operation (method and Echo route template) to a value. Two levels instead
// of a "METHOD template" key: a lookup on every request then builds no string.
type opTable[T any] map[string]map[string]T

func (t opTable[T]) set(method, template string, v T) {
	m := t[method]
	if m == nil {
		m = map[string]T{}
		t[method] = m
	}
	m[template] = v
}

func (t opTable[T]) get(method, template string) (T, bool) {
	v, ok := t[method][template]
	return v, ok
}
