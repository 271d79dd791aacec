package kbeval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Doc is one corpus document.
type Doc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Query is one query.
type Query struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// Dataset is a BEIR directory read for one split: corpus.jsonl, queries.jsonl and
// qrels/<split>.tsv.
type Dataset struct {
	Split   string
	Docs    []Doc
	Queries []Query                    // the queries judged in the split, in file order
	Qrels   map[string]map[string]bool // query id -> relevant document ids
}

// Load reads a BEIR directory; only the queries judged in split are kept.
func Load(dir, split string) (*Dataset, error) {
	ds := Dataset{Split: split}
	if err := readJSONL(filepath.Join(dir, "corpus.jsonl"), func(dec *json.Decoder) error {
		var d Doc
		if err := dec.Decode(&d); err != nil {
			return err
		}
		ds.Docs = append(ds.Docs, d)
		return nil
	}); err != nil {
		return nil, err
	}
	qrels, err := readQrels(filepath.Join(dir, "qrels", split+".tsv"))
	if err != nil {
		return nil, err
	}
	ds.Qrels = qrels
	if err := readJSONL(filepath.Join(dir, "queries.jsonl"), func(dec *json.Decoder) error {
		var q Query
		if err := dec.Decode(&q); err != nil {
			return err
		}
		if _, ok := qrels[q.ID]; ok {
			ds.Queries = append(ds.Queries, q)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if len(ds.Queries) != len(qrels) {
		return nil, fmt.Errorf("%d judged queries, %d found in queries.jsonl", len(qrels), len(ds.Queries))
	}
	return &ds, nil
}

// Pairs is the number of judged relevant (query, document) pairs.
func (ds *Dataset) Pairs() int {
	n := 0
	for _, r := range ds.Qrels {
		n += len(r)
	}
	return n
}

func readJSONL(path string, each func(*json.Decoder) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	for dec.More() {
		if err := each(dec); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// readQrels reads a BEIR qrels TSV (header "query-id corpus-id score").
func readQrels(path string) (map[string]map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseQrels(f)
}

// ParseQrels reads BEIR qrels ("query-id corpus-id score" lines, an optional header);
// pairs with score > 0 are relevant.
func ParseQrels(r io.Reader) (map[string]map[string]bool, error) {
	qrels := map[string]map[string]bool{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || (line == 1 && fields[0] == "query-id") {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("qrels line %d: %d fields", line, len(fields))
		}
		if fields[2] == "0" || strings.HasPrefix(fields[2], "-") {
			continue
		}
		if qrels[fields[0]] == nil {
			qrels[fields[0]] = map[string]bool{}
		}
		qrels[fields[0]][fields[1]] = true
	}
	return qrels, sc.Err()
}
