package database

import (
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// Text turns an optional string into a nullable query parameter.
func Text(s *string) pgtype.Text {
	if s == nil {
		return pgtype.Text{}
	}
	return pgtype.Text{String: *s, Valid: true}
}

// Bool turns an optional bool into a nullable query parameter.
func Bool(b *bool) pgtype.Bool {
	if b == nil {
		return pgtype.Bool{}
	}
	return pgtype.Bool{Bool: *b, Valid: true}
}

// NonEmpty is a nullable text parameter that is NULL for "".
func NonEmpty(s string) pgtype.Text {
	return pgtype.Text{String: s, Valid: s != ""}
}

// EscapeLike escapes LIKE/ILIKE wildcards (and the escape character) in s, for a substring
// search of user input.
func EscapeLike(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
