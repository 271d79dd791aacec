package phi

import (
	"regexp"
	"sync"
)

// pattern is a regular expression compiled on first use. The detector has about sixty, some
// with hundreds of alternatives (fuzzy): compiled at package initialisation they cost every
// process ~50 ms of start-up and ~9 MB of garbage, though most detect PHI late or never
// (issue 17, docs/benchmarks.md). TestPatternsCompile compiles them all.
type pattern struct {
	src   string
	build func() string // when set, makes src on first use (fuzzy's expansions: ~4 ms at init)
	once  sync.Once
	re    *regexp.Regexp
}

// patterns lists every pattern made at package initialisation, for the test.
var patterns []*pattern

func compile(src string) *pattern {
	p := &pattern{src: src}
	patterns = append(patterns, p)
	return p
}

// compileLazy is compile for a source that is itself costly to build.
func compileLazy(build func() string) *pattern {
	p := &pattern{build: build}
	patterns = append(patterns, p)
	return p
}

func (p *pattern) get() *regexp.Regexp {
	p.once.Do(func() {
		if p.build != nil {
			p.src = p.build()
		}
		p.re = regexp.MustCompile(p.src)
	})
	return p.re
}

func (p *pattern) MatchString(s string) bool { return p.get().MatchString(s) }

func (p *pattern) FindAllString(s string, n int) []string { return p.get().FindAllString(s, n) }

func (p *pattern) FindAllStringIndex(s string, n int) [][]int {
	return p.get().FindAllStringIndex(s, n)
}

func (p *pattern) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return p.get().FindAllStringSubmatchIndex(s, n)
}

func (p *pattern) ReplaceAllStringFunc(s string, f func(string) string) string {
	return p.get().ReplaceAllStringFunc(s, f)
}
