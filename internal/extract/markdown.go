package extract

import (
	"bytes"
	"fmt"
	stdhtml "html"
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	mdATX       = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	mdSetext    = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	mdFence     = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
	mdBreak     = regexp.MustCompile(`^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	mdTableRule = regexp.MustCompile(`^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?$`)
	mdRefDef    = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:[ \t]*\S+`)
	mdQuote     = regexp.MustCompile(`^ {0,3}>[ \t]?`)
	mdBullet    = regexp.MustCompile(`^([ \t]*)[*+]([ \t]+)`)
	mdListItem  = regexp.MustCompile(`^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+`)

	mdEscape   = regexp.MustCompile(`\\([!-/:-@\[-` + "`" + `{-~])`)
	mdImage    = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	mdRefLink  = regexp.MustCompile(`\[([^\]]+)\]\[[^\]]*\]`)
	mdAutolink = regexp.MustCompile(`<((?:https?|ftp)://[^\s<>]+|mailto:[^\s<>]+)>`)
	mdComment  = regexp.MustCompile(`<!--.*?-->`)
	// Tags must start with a letter so that "<140/90 mmHg" survives.
	mdTag     = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`)
	mdStrong  = regexp.MustCompile(`\*\*(\S(?:.*?\S)?)\*\*`)
	mdStrongU = regexp.MustCompile(`\b__(\S(?:.*?\S)?)__\b`)
	mdStrike  = regexp.MustCompile(`~~(\S(?:.*?\S)?)~~`)
	mdEm      = regexp.MustCompile(`\*(\S(?:[^*]*?\S)?)\*`)
	// \b before "_" means a non-word character precedes it, so snake_case is kept.
	mdEmU = regexp.MustCompile(`\b_(\S(?:[^_]*?\S)?)_\b`)
)

// extractMarkdown turns headings into heading paths and strips inline
// syntax. The first H1 is the title.
func extractMarkdown(data []byte, max int64) (Document, error) {
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return Document{}, fmt.Errorf("%w: markdown is not valid UTF-8", ErrMalformed)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := skipFrontMatter(strings.Split(text, "\n"))

	b := builder{max: max}
	var para []string // lines of the open paragraph, kept back for setext headings
	endPara := func() {
		for _, l := range para {
			b.write(l + "\n")
		}
		para = nil
		b.write("\n")
	}
	heading := func(level int, title string) { // title is already inline-stripped
		endPara()
		if level == 1 && b.doc.Title == "" {
			b.doc.Title = oneLine(title)
		}
		b.setHeading(level, title)
	}

	var fence string // opening fence while inside a fenced code block
	for _, line := range lines {
		if fence != "" {
			if isFenceClose(line, fence) {
				fence = ""
				endPara()
			} else {
				para = append(para, line) // code is kept verbatim
			}
			continue
		}
		for mdQuote.MatchString(line) {
			line = mdQuote.ReplaceAllString(line, "")
		}
		switch {
		case strings.TrimSpace(line) == "":
			endPara()
		case mdFence.MatchString(line):
			endPara()
			fence = mdFence.FindStringSubmatch(line)[1]
		case mdATX.MatchString(line):
			m := mdATX.FindStringSubmatch(line)
			heading(len(m[1]), inline(m[2]))
		case mdSetext.MatchString(line) && len(para) > 0 && !mdListItem.MatchString(para[0]):
			title := strings.Join(para, " ")
			para = nil
			level := 1
			if strings.Contains(line, "-") {
				level = 2
			}
			heading(level, title)
		case mdBreak.MatchString(line), mdTableRule.MatchString(line), mdRefDef.MatchString(line):
			// Thematic breaks, table alignment rows and link definitions carry no text.
		default:
			line = mdBullet.ReplaceAllString(line, "$1-$2")
			para = append(para, strings.ReplaceAll(inline(line), "|", " "))
		}
	}
	endPara()
	return b.result()
}

// skipFrontMatter drops a leading YAML front matter block.
func skipFrontMatter(lines []string) []string {
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		return lines
	}
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimSpace(lines[i]); l == "---" || l == "..." {
			return lines[i+1:]
		}
	}
	return lines
}

// isFenceClose reports whether line closes a block opened by fence.
func isFenceClose(line, fence string) bool {
	l := strings.TrimSpace(line)
	return len(l) >= len(fence) && strings.Trim(l, fence[:1]) == ""
}

// inline strips inline Markdown syntax from one line. Code spans and
// backslash escapes are swapped for private-use placeholders first so the
// other rules leave their content alone.
func inline(s string) string {
	var kept []string
	hold := func(v string) string {
		kept = append(kept, v)
		return string(rune(0xF0000 + len(kept) - 1))
	}
	s = codeSpans(s, hold)
	s = mdEscape.ReplaceAllStringFunc(s, func(m string) string { return hold(m[1:]) })

	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdRefLink.ReplaceAllString(s, "$1")
	s = mdAutolink.ReplaceAllString(s, "$1")
	s = mdComment.ReplaceAllString(s, "")
	s = mdTag.ReplaceAllString(s, "")
	for _, re := range []*regexp.Regexp{mdStrong, mdStrongU, mdStrike, mdEm, mdEmU} {
		s = re.ReplaceAllString(s, "$1")
	}

	return stdhtml.UnescapeString(restore(s, kept))
}

// restore puts held values back in place of their placeholders.
func restore(s string, kept []string) string {
	if len(kept) == 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if i := int(r) - 0xF0000; i >= 0 && i < len(kept) {
			b.WriteString(kept[i])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// codeSpans replaces each `code` span with hold(code).
func codeSpans(s string, hold func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		n := i
		for n < len(s) && s[n] == '`' {
			n++
		}
		ticks := s[i:n]
		j := strings.Index(s[n:], ticks)
		if j < 0 {
			b.WriteString(s[:n])
			s = s[n:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(hold(strings.TrimSpace(s[n : n+j])))
		s = s[n+j+len(ticks):]
	}
}
