package tests

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Issue 21 #16: uploads are read at most KB_MAX_CONCURRENT_UPLOADS at a time; one more is
// refused with the declared 503 and Retry-After, before its body is read, and a normal upload
// still indexes once the slot is free.
func TestKBUploadConcurrencyCap(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"KB_MAX_CONCURRENT_UPLOADS": "1"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))

	// The first upload sends part of its file and then stalls: it holds the only slot.
	type stalled struct {
		mw   *multipart.Writer
		pw   *io.PipeWriter
		done chan *client.IngestKbDocumentsResponse
	}
	stall := func() stalled {
		pr, pw := io.Pipe()
		st := stalled{mw: multipart.NewWriter(pw), pw: pw, done: make(chan *client.IngestKbDocumentsResponse, 1)}
		go func() {
			res, err := s.Client.IngestKbDocumentsWithBodyWithResponse(context.Background(), st.mw.FormDataContentType(), pr, bearerAuth(admin))
			if err != nil {
				t.Errorf("stalled upload: %v", err)
			}
			st.done <- res
		}()
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="held.txt"`)
		h.Set("Content-Type", "text/plain")
		part, err := st.mw.CreatePart(h)
		require.NoError(t, err)
		// Far more than the client's write buffer (4 KiB), so the headers and the start of the
		// body reach the server even while the rest never comes. The write returns once the
		// server has read that much, or once it has answered (a pipe closed by the transport).
		_, _ = io.WriteString(part, strings.Repeat("The held upload describes anticoagulation bridging before surgery.\n", 2000))
		return st
	}
	held := stall()

	// Another upload is refused once the first has its slot (polled: until then it may pass).
	// A probe can take the slot at the moment the first asks for it; the first is then the one
	// refused, and it starts again.
	small := file{name: "small.txt", data: []byte("Potassium replacement guidance for hypokalaemia.")}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case r := <-held.done:
			require.NotNil(t, r)
			require.Equal(t, 503, r.StatusCode(), string(r.Body))
			_ = held.pw.Close()
			held = stall()
		default:
		}
		res := s.upload(t, admin, []file{small}, nil)
		if res.StatusCode() == 503 {
			require.Equal(t, "UPLOADS_BUSY", res.JSON503.Error.Code, string(res.Body))
			require.NotEmpty(t, res.HTTPResponse.Header.Get("Retry-After"))
			break
		}
		require.Equal(t, 202, res.StatusCode(), string(res.Body))
		require.True(t, time.Now().Before(deadline), "the stalled upload never took its slot")
		time.Sleep(20 * time.Millisecond)
	}

	// The stalled upload finishes and is stored; the slot is free again.
	require.NoError(t, held.mw.Close())
	require.NoError(t, held.pw.Close())
	res := <-held.done
	require.NotNil(t, res)
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	stored := s.waitIndexed(t, admin, res.JSON202.Data.Items[0].Document.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, stored.Status)

	next := s.upload(t, admin, []file{{name: "next.txt", data: []byte("Magnesium sulfate dosing in eclampsia.")}}, map[string][]string{"tags": {"obstetrics"}})
	require.Equal(t, 202, next.StatusCode(), string(next.Body))
	doc := s.waitIndexed(t, admin, next.JSON202.Data.Items[0].Document.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, doc.Status)
}

// Issue 21 #7 for multipart: U+0000 in a form field or a file name is refused by the validator
// as 422 naming the field (it used to reach PostgreSQL); invalid UTF-8 in a field is 400;
// unknown parts are named too. NUL inside a file's text is content: it is dropped by the
// extractor and the document indexes and is found without it.
func TestKBUploadNULInFieldsAndText(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))
	good := file{name: "good.txt", data: []byte("Thrombolysis window for ischaemic stroke.")}

	for _, tc := range []struct {
		name   string
		files  []file
		fields map[string][]string
		status int
		field  string
	}{
		{"NUL in a tag", []file{good}, map[string][]string{"tags": {"card\x00io"}}, 422, "tags"},
		{"NUL in source_url", []file{good}, map[string][]string{"source_url": {"https://example.org/\x00"}}, 422, "source_url"},
		// RFC 2231 lets a file name carry an escaped NUL; a raw one breaks the part header.
		{"escaped NUL in a file name", []file{{name: `a.txt"; filename*=UTF-8''bad%00name.txt; x="`, data: good.data}}, nil, 422, "files"},
		{"raw NUL in a part header", []file{{name: "bad\x00name.txt", data: good.data}}, nil, 400, "body"},
		{"invalid UTF-8 in a tag", []file{good}, map[string][]string{"tags": {"caf\xe9"}}, 400, "tags"},
		{"unknown field", []file{good}, map[string][]string{"folder": {"x"}}, 422, "folder"},
		{"bad tag still named", []file{good}, map[string][]string{"tags": {"Bad Tag"}}, 422, "tags.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.upload(t, admin, tc.files, tc.fields)
			require.Equal(t, tc.status, res.StatusCode(), string(res.Body))
			require.Contains(t, string(res.Body), fmt.Sprintf(`"field":%q`, tc.field), string(res.Body))
		})
	}
	list, err := s.Client.ListKbDocumentsWithResponse(context.Background(), nil, bearerAuth(admin))
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data, "nothing of a refused upload is stored")

	text := "Vancomycin\x00 trough levels guide dosing.\x00\n\nMonitor renal\x01 function\x00 daily."
	res := s.upload(t, admin, []file{{name: "nul.txt", contentType: "text/plain", data: []byte(text)}}, map[string][]string{"tags": {"pharmacy"}})
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	doc := s.waitIndexed(t, admin, res.JSON202.Data.Items[0].Document.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, doc.Status)
	out := s.kbSearch(t, user, client.KbSearchRequest{Query: "vancomycin trough levels", Mode: mode(client.Keyword)})
	require.NotEmpty(t, out.Hits)
	require.Contains(t, out.Hits[0].Text, "Vancomycin trough levels guide dosing.")
	for _, h := range out.Hits {
		require.False(t, strings.ContainsAny(h.Text, "\x00\x01"), "hit text %q", h.Text)
	}
}
