package extract

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
)

// skipped elements hold no document text (or, for head, only the title).
var skipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Noscript: true,
	atom.Nav: true, atom.Footer: true, atom.Template: true, atom.Svg: true,
	atom.Iframe: true, atom.Object: true,
}

// paraBlocks end a paragraph; lineBlocks only end a line.
var (
	paraBlocks = map[atom.Atom]bool{
		atom.P: true, atom.Section: true, atom.Article: true, atom.Main: true,
		atom.Header: true, atom.Aside: true, atom.Blockquote: true, atom.Pre: true,
		atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
		atom.Figure: true, atom.Hr: true, atom.Address: true, atom.Body: true,
	}
	lineBlocks = map[atom.Atom]bool{
		atom.Div: true, atom.Li: true, atom.Tr: true,
		atom.Dt: true, atom.Dd: true, atom.Figcaption: true, atom.Caption: true,
	}
)

type htmlWalker struct {
	builder
	title, firstH1 string
	pre            int // depth inside <pre>, where whitespace is kept
}

// extractHTML keeps the visible text: h1–h6 form the heading path, the
// <title> (else the first h1) is the title.
func extractHTML(ctx context.Context, data []byte, max int64) (Document, error) {
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		// Legacy pages declare their charset in a <meta> tag.
		enc, _, _ := charset.DetermineEncoding(data, "text/html")
		decoded, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			return Document{}, fmt.Errorf("%w: html: %v", ErrMalformed, err)
		}
		data = decoded
	}
	if err := htmlNodeBudget(ctx, data, max); err != nil {
		return Document{}, err
	}
	root, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return Document{}, fmt.Errorf("%w: html: %v", ErrMalformed, err)
	}
	w := htmlWalker{builder: builder{max: max}}
	w.walk(root)
	w.doc.Title = w.title
	if w.doc.Title == "" {
		w.doc.Title = w.firstH1
	}
	return w.result()
}

// htmlNodeBytes is about what x/net/html keeps per node of its tree (the node, its name and
// text, its attributes). The tree is built whole before any text is read, so a page of tiny
// elements ("<i>" is 3 bytes, its node ~50 times that) would expand far past the byte limit
// the text is held to: htmlNodeBudget counts the nodes first, with the tokenizer, which
// keeps nothing.
const htmlNodeBytes = 160

// htmlNodeBudget refuses a page whose tree would pass max bytes, and stops when ctx ends
// (the parse that follows cannot be interrupted, but the budget bounds its time too).
func htmlNodeBudget(ctx context.Context, data []byte, max int64) error {
	if max <= 0 {
		return nil
	}
	z := html.NewTokenizer(bytes.NewReader(data))
	var nodes int64
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil // the end of the input: the parser takes whatever the tokenizer could not
		case html.EndTagToken:
			continue
		}
		nodes++
		if nodes*htmlNodeBytes > max {
			return tooLarge(fmt.Sprintf("its %d+ elements take", nodes), max)
		}
		if nodes%4096 == 0 && ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
}

func (w *htmlWalker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if w.pre > 0 {
			w.write(n.Data)
		} else {
			w.write(collapse(n.Data))
		}
		return
	case html.ElementNode:
		if n.DataAtom == atom.Title {
			if w.title == "" {
				w.title = oneLine(textOf(n))
			}
			return
		}
		if n.DataAtom == atom.Head {
			if t := find(n, atom.Title); t != nil {
				w.walk(t)
			}
			return
		}
		if skipped[n.DataAtom] {
			return
		}
		if level := headingLevel(n.DataAtom); level > 0 {
			text := oneLine(textOf(n))
			if level == 1 && w.firstH1 == "" {
				w.firstH1 = text
			}
			w.setHeading(level, text)
			return
		}
	}

	brk := ""
	switch {
	case n.DataAtom == atom.Br:
		w.write("\n") // repeated <br> is a paragraph break
		return
	case paraBlocks[n.DataAtom]:
		brk = "\n\n"
	case lineBlocks[n.DataAtom]:
		brk = "\n"
	case n.DataAtom == atom.Td || n.DataAtom == atom.Th:
		brk = " "
	}
	if n.DataAtom == atom.Pre {
		w.pre++
		defer func() { w.pre-- }()
	}
	w.breakLine(brk)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	w.breakLine(brk)
}

// breakLine ends the text so far with brk unless it already ends with it, so
// that nested or adjacent blocks do not add blank lines.
func (w *htmlWalker) breakLine(brk string) {
	if !strings.HasSuffix(strings.TrimRight(w.buf.String(), " \t"), brk) {
		w.write(brk)
	}
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// wsRun matches HTML whitespace; source line breaks carry no meaning.
var wsRun = regexp.MustCompile(`[ \t\n\r\f]+`)

// collapse turns whitespace runs into single spaces, keeping a leading or
// trailing one so that adjacent inline elements stay separate words.
func collapse(s string) string { return wsRun.ReplaceAllString(s, " ") }

// textOf is the text content of n without skipped elements.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			return
		}
		if n.Type == html.ElementNode && skipped[n.DataAtom] {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// find returns the first element below n with atom a.
func find(n *html.Node, a atom.Atom) *html.Node {
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && c.DataAtom == a {
			return c
		}
	}
	return nil
}
