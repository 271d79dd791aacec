package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
)

// uploadBody is a multipart KB upload of one text file of about size bytes; seed makes its
// content unique (a duplicate is still read and checked, but not stored).
func uploadBody(size int, seed int) ([]byte, string) {
	var text strings.Builder
	text.Grow(size + 200)
	fmt.Fprintf(&text, "Upload %d.\n\n", seed)
	for i := 0; text.Len() < size; i++ {
		fmt.Fprintf(&text, "Sentence %d of the benchmark document describes hypertension management in adults. ", i)
		if i%8 == 7 {
			text.WriteString("\n\n")
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("files", fmt.Sprintf("upload-%d.txt", seed))
	_, _ = io.WriteString(w, text.String())
	_ = mw.WriteField("tags", "bench")
	_ = mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

// BenchmarkKBUpload20MiB posts a 20 MiB text file to POST /api/admin/kb/documents and
// reports the bytes the whole process allocated per upload (server and client share the
// process; the body itself is built before the timer starts). Indexing is off (no workers),
// so what is measured is the request: validation, reading the parts, the up-front
// extraction check and storing the content (issue 21 #16).
func BenchmarkKBUpload20MiB(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "error", "RATE_LIMIT_ENABLED": "false", "KB_INDEX_WORKERS": "0", "REQUEST_TIMEOUT_SECONDS": "600"})
	u, err := s.App.Auth.CreateUser(context.Background(), "upload"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleAdmin, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	bodies, types := make([][]byte, b.N), make([]string, b.N)
	for i := range bodies {
		bodies[i], types[i] = uploadBody(20<<20, i)
	}
	runtime.GC()
	b.ReportAllocs()
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/admin/kb/documents", bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", types[i])
		req.Header.Set("Authorization", "Bearer "+pair.Access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d: %s", res.StatusCode, out)
		}
		bodies[i] = nil
	}
}
